//! Go's MySQL DSN (go-sql-driver/mysql 1.7.1, the driver libasherah 0.3.9 links): parsed
//! into a [`MysqlDsn`] for the native core's MySQL metastore, and checked for the Go core.
//!
//! libasherah panics (aborting the whole process) when `sql.Open` cannot parse the DSN
//! during `SetupJson`, so the shim refuses every DSN the driver would refuse first, with a
//! typed error ([`check`]). This is our own reading of the driver's documented grammar,
//! `[user[:password]@][net[(addr)]]/dbname[?param=value&...]`, and of the checks it makes
//! while parsing: the last `/` ends the address part, the last `@` before it ends the
//! credentials (the first `:` in them ends the user), an address in parentheses must end
//! right before that `/`, a network without an address must be `tcp` or `unix`, and typed
//! parameters (booleans, durations, integers, TLS mode, time zone) must parse. Connection
//! failures (a wrong host, a refused port) are not parse errors: they come per call.
//! Messages name the problem, never the DSN (it may hold a password), and `Debug` of a
//! [`MysqlDsn`] does not show the password.
#![forbid(unsafe_code)]

use std::fmt;

/// Parameters whose values the driver reads as booleans.
const BOOL_PARAMS: [&str; 12] = [
    "allowAllFiles",
    "allowCleartextPasswords",
    "allowFallbackToPlaintext",
    "allowNativePasswords",
    "allowOldPasswords",
    "checkConnLiveness",
    "clientFoundRows",
    "columnsWithAlias",
    "interpolateParams",
    "multiStatements",
    "parseTime",
    "rejectReadOnly",
];

/// Parameters whose values the driver reads as Go durations.
const DURATION_PARAMS: [&str; 3] = ["readTimeout", "timeout", "writeTimeout"];

/// Collations the driver refuses together with `interpolateParams=true`.
const UNSAFE_COLLATIONS: [&str; 11] = [
    "big5_chinese_ci",
    "sjis_japanese_ci",
    "gbk_chinese_ci",
    "big5_bin",
    "gb2312_bin",
    "gbk_bin",
    "sjis_bin",
    "cp932_japanese_ci",
    "cp932_bin",
    "gb18030_chinese_ci",
    "gb18030_bin",
];

/// A DSN the driver accepts, split into its parts. Defaults are the driver's: network
/// `tcp`, address `127.0.0.1:3306` (`/tmp/mysql.sock` for `unix`), port 3306 when the
/// address has none.
#[derive(Clone, PartialEq, Eq)]
pub struct MysqlDsn {
    /// The user name (may be empty).
    pub user: String,
    /// The password, if the DSN has a `:` in its credentials.
    pub password: Option<String>,
    /// `tcp` or `unix` (another network name is refused by [`parse`] for the native core's
    /// use, see [`MysqlDsn::endpoint`]).
    pub net: String,
    /// The address: `host:port` for `tcp` (port added if missing), a socket path for `unix`.
    pub addr: String,
    /// The database name, as written (go-sql-driver 1.7.1 does not unescape it).
    pub db: String,
    /// The parameters after `?`, in order, values %-unescaped.
    pub params: Vec<(String, String)>,
}

/// Where to connect, as the native core's client needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A TCP host (a name, or an IP address without brackets) and port.
    Tcp {
        /// Host name or IP address.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A Unix socket path.
    Unix {
        /// The socket's path.
        path: String,
    },
}

impl fmt::Debug for MysqlDsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MysqlDsn")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<not shown>"))
            .field("net", &self.net)
            .field("addr", &self.addr)
            .field("db", &self.db)
            .field("params", &self.params)
            .finish()
    }
}

impl MysqlDsn {
    /// The value of parameter `key` (the last one, as the driver keeps the last).
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The TCP host and port or the socket path; `Err` for a network the driver knows only
    /// through registered dialers (`tcp6`, a custom name), which no client here can use.
    pub fn endpoint(&self) -> Result<Endpoint, String> {
        match self.net.as_str() {
            "unix" => Ok(Endpoint::Unix {
                path: self.addr.clone(),
            }),
            "tcp" | "tcp4" | "tcp6" => {
                let (host, port) = split_host_port(&self.addr)
                    .ok_or("the MySQL DSN address must be host:port, e.g. tcp(127.0.0.1:3306)")?;
                let port = port
                    .parse::<u16>()
                    .map_err(|_| "the MySQL DSN port must be a number from 0 to 65535")?;
                Ok(Endpoint::Tcp {
                    host: host.to_owned(),
                    port,
                })
            }
            _ => Err(format!(
                "the MySQL DSN network must be tcp or unix, not {:?}",
                self.net
            )),
        }
    }
}

/// Checks `dsn` as the Go core's MySQL driver would parse it; `Err` says why it would not.
pub fn check(dsn: &str) -> Result<(), String> {
    parse(dsn).map(|_| ())
}

/// Parses `dsn` as the driver would; `Err` says why the driver would refuse it.
pub fn parse(dsn: &str) -> Result<MysqlDsn, String> {
    let mut out = MysqlDsn {
        user: String::new(),
        password: None,
        net: "tcp".into(),
        addr: "127.0.0.1:3306".into(),
        db: String::new(),
        params: Vec::new(),
    };
    if dsn.is_empty() {
        return Ok(out); // the driver's defaults: tcp(127.0.0.1:3306)/
    }
    let Some(slash) = dsn.rfind('/') else {
        return Err(
            "the MySQL DSN needs a '/' before the database name, e.g. \"user:pass@tcp(host:3306)/db\""
                .into(),
        );
    };
    let (head, tail) = (&dsn[..slash], &dsn[slash + 1..]);
    let (net, addr) = net_and_addr(head)?;
    if let Some(at) = head.rfind('@') {
        let credentials = &head[..at];
        match credentials.split_once(':') {
            Some((user, password)) => {
                out.user = user.to_owned();
                out.password = Some(password.to_owned());
            }
            None => out.user = credentials.to_owned(),
        }
    }
    let mut interpolate = false;
    let mut collation = String::new();
    let (db, params) = match tail.split_once('?') {
        Some((db, params)) => (db, Some(params)),
        None => (tail, None),
    };
    out.db = db.to_owned();
    for pair in params.into_iter().flat_map(|p| p.split('&')) {
        let Some((key, value)) = pair.split_once('=') else {
            continue; // the driver skips a parameter without '='
        };
        check_param(key, value)?;
        // check_param refused every bad escape the driver refuses; charset and collation
        // are taken as written.
        let value = match key {
            "charset" | "collation" => value.to_owned(),
            _ => query_unescape(value).unwrap_or_else(|| value.to_owned()),
        };
        match key {
            "interpolateParams" => interpolate = read_bool(&value) == Some(true),
            "collation" => collation.clone_from(&value),
            _ => {}
        }
        out.params.push((key.to_owned(), value));
    }
    let collation = collation.as_str();
    if interpolate && UNSAFE_COLLATIONS.contains(&collation) {
        return Err(format!(
            "the MySQL DSN combines interpolateParams=true with collation {collation}, which the driver refuses"
        ));
    }
    if addr.is_none() && !matches!(net, "" | "tcp" | "unix") {
        return Err(
            "the MySQL DSN names a network without an address (only tcp and unix have defaults); \
             is this a URL for another database? For PostgreSQL set SQLMetastoreDBType \"postgres\""
                .into(),
        );
    }
    if !net.is_empty() {
        out.net = net.to_owned();
    }
    match addr {
        Some(addr) if !addr.is_empty() => out.addr = addr.to_owned(),
        _ if out.net == "unix" => out.addr = "/tmp/mysql.sock".into(),
        _ => {}
    }
    if out.net.starts_with("tcp") && split_host_port(&out.addr).is_none() {
        out.addr = if out.addr.contains(':') && !out.addr.starts_with('[') {
            format!("[{}]:3306", out.addr) // a bare IPv6 address, as Go's JoinHostPort
        } else {
            format!("{}:3306", out.addr)
        };
    }
    Ok(out)
}

/// Go's `net.SplitHostPort` for the cases a DSN holds: `host:port`, `[v6]:port`.
fn split_host_port(addr: &str) -> Option<(&str, &str)> {
    if let Some(rest) = addr.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return Some((host, after.strip_prefix(':')?));
    }
    let (host, port) = addr.rsplit_once(':')?;
    (!host.contains(':')).then_some((host, port))
}

/// Splits `[user[:password]@][net[(addr)]]` into the network and the address, if any.
fn net_and_addr(head: &str) -> Result<(&str, Option<&str>), String> {
    let rest = match head.rfind('@') {
        Some(at) => &head[at + 1..],
        None => head,
    };
    match rest.find('(') {
        None => Ok((rest, None)),
        Some(open) => {
            if !rest.ends_with(')') {
                return Err(if rest[open + 1..].contains(')') {
                    "the MySQL DSN has text between the address's ')' and the '/' (escape '/' and '?' in the password)".into()
                } else {
                    "the MySQL network address is missing its closing ')'".into()
                });
            }
            Ok((&rest[..open], Some(&rest[open + 1..rest.len() - 1])))
        }
    }
}

fn check_param(key: &str, value: &str) -> Result<(), String> {
    let bad = |what: &str| Err(format!("the MySQL DSN parameter {key} must be {what}"));
    if BOOL_PARAMS.contains(&key) {
        return match read_bool(value) {
            Some(_) => Ok(()),
            None => bad("true, false, 1 or 0"),
        };
    }
    if DURATION_PARAMS.contains(&key) {
        return match go_duration_ok(value) {
            true => Ok(()),
            false => bad("a Go duration such as 30s or 1m30s"),
        };
    }
    match key {
        "maxAllowedPacket" => match go_atoi_ok(value) {
            true => Ok(()),
            false => bad("a whole number"),
        },
        "tls" => {
            let v = query_unescape(value).ok_or("the MySQL DSN parameter tls is badly escaped")?;
            match (read_bool(&v), v.to_ascii_lowercase().as_str()) {
                (Some(_), _) | (None, "skip-verify" | "preferred") => Ok(()),
                _ => bad("true, false, skip-verify or preferred (named TLS configs cannot be registered through libasherah)"),
            }
        }
        "serverPubKey" => bad("absent: server public keys cannot be registered through libasherah"),
        "strict" => bad("absent: the driver removed strict mode and panics on it"),
        "loc" => {
            let v = query_unescape(value).ok_or("the MySQL DSN parameter loc is badly escaped")?;
            match zone_exists(&v) {
                true => Ok(()),
                false => bad("UTC, Local or a time zone in the system's zoneinfo database"),
            }
        }
        // charset and collation are plain strings; anything else is sent to the server
        // as a system variable, after URL unescaping, which must succeed.
        "charset" | "collation" => Ok(()),
        _ => match query_unescape(value) {
            Some(_) => Ok(()),
            None => Err(format!("the MySQL DSN parameter {key} is badly %-escaped")),
        },
    }
}

/// Go's `readBool`: `1`, `true`, `TRUE`, `True` and their false counterparts.
fn read_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "true" | "TRUE" | "True" => Some(true),
        "0" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Whether Go's `time.ParseDuration` accepts `s`: an optional sign, then one or more
/// `number unit` pairs (units ns, us, µs, μs, ms, s, m, h), or a bare `0`.
fn go_duration_ok(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    if s.is_empty() {
        return false;
    }
    let mut rest = s;
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_end];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos: f64 = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return false,
        };
        rest = &rest[unit_end..];
        let Ok(n) = num.parse::<f64>() else {
            return false;
        };
        total += n * nanos;
        if total > i64::MAX as f64 {
            return false; // Go: "invalid duration" (overflow)
        }
    }
    true
}

/// Whether Go's `strconv.Atoi` accepts `s` (an optional sign and decimal digits that fit
/// in 64 bits).
fn go_atoi_ok(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && s.parse::<i64>().is_ok()
}

/// Go's `url.QueryUnescape`: `%XX` escapes must be complete hex pairs; `+` is a space.
fn query_unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Whether Go's `time.LoadLocation` can find `name` on this system (libasherah embeds no
/// zone database, so it reads the system's, as this does).
fn zone_exists(name: &str) -> bool {
    if matches!(name, "" | "UTC" | "Local") {
        return true;
    }
    if name.starts_with('/') || name.split('/').any(|p| p == ".." || p.is_empty()) {
        return false;
    }
    let dirs = std::env::var("ZONEINFO").into_iter().chain(
        [
            "/usr/share/zoneinfo",
            "/usr/share/lib/zoneinfo",
            "/usr/lib/locale/TZ",
        ]
        .into_iter()
        .map(String::from),
    );
    for dir in dirs {
        if std::path::Path::new(&dir).join(name).is_file() {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsns_the_driver_accepts() {
        for ok in [
            "",
            "/db",
            "u:p@tcp(127.0.0.1:3306)/db",
            "u:p@/db",
            "u@unix(/var/run/mysqld.sock)/db",
            "u:p@tcp([::1]:3306)/db?tls=skip-verify&parseTime=true",
            "u:p/w@tcp(h:1)/db",
            "u:p@tcp(h)/db?timeout=1m30s&readTimeout=0&writeTimeout=-5ms",
            "u:p@tcp(h:1)/db?charset=utf8mb4,utf8&collation=utf8mb4_bin&maxAllowedPacket=0",
            "u:p@tcp(h:1)/db?tls=TRUE&loc=UTC&sql_mode=%27ANSI%27&noequals",
            "foo(bar)/db",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn dsns_that_make_libasherah_panic_are_refused() {
        // Each of these aborted a process running libasherah 0.3.9 (measured).
        for bad in [
            "sqlite:///tmp/x.db",
            "postgres://u:p@127.0.0.1:1/db",
            "not a dsn",
            "u:p@tcp(h:1)x/db",
            "u@tcp(host:1/db",
            "u:p@tcp(h:1)/db?tls=bogus",
            "u:p@tcp(h:1)/db?parseTime=maybe",
            "u:p@tcp(h:1)/db?timeout=abc",
            "u:p@tcp(h:1)/db?loc=Nowhere%2FX",
            "u:p@tcp(h:1)/db?x=%zz",
            "u:p@tcp(h:1)/db?maxAllowedPacket=x",
            "u:p@tcp(h:1)/db?serverPubKey=nope",
            "u:p@tcp(h:1)/db?strict=true",
            "u:p@tcp(h:1)/db?interpolateParams=true&collation=gbk_bin",
            "u:p@tcp(h:1)/db?timeout=9999999999h",
        ] {
            let e = check(bad).unwrap_err();
            assert!(
                !e.contains("u:p"),
                "the message must not quote the DSN: {e}"
            );
        }
    }

    #[test]
    fn parts_and_defaults() {
        let d = parse("u:p:w@tcp(db.example:3307)/keys?tls=skip-verify&x=%27a%27").unwrap();
        assert_eq!((d.user.as_str(), d.password.as_deref()), ("u", Some("p:w")));
        assert_eq!(
            (d.net.as_str(), d.addr.as_str(), d.db.as_str()),
            ("tcp", "db.example:3307", "keys")
        );
        assert_eq!(d.param("tls"), Some("skip-verify"));
        assert_eq!(d.param("x"), Some("'a'"));
        assert_eq!(
            d.endpoint(),
            Ok(Endpoint::Tcp {
                host: "db.example".into(),
                port: 3307
            })
        );
        assert!(!format!("{d:?}").contains("p:w"));
        let d = parse("u@/db").unwrap();
        assert_eq!((d.password, d.addr.as_str()), (None, "127.0.0.1:3306"));
        let d = parse("u:p@tcp(::1)/db").unwrap();
        assert_eq!(
            d.endpoint(),
            Ok(Endpoint::Tcp {
                host: "::1".into(),
                port: 3306
            })
        );
        let d = parse("u:p@tcp([::1]:5)/db").unwrap();
        assert_eq!(
            d.endpoint(),
            Ok(Endpoint::Tcp {
                host: "::1".into(),
                port: 5
            })
        );
        let d = parse("u:p@unix/db").unwrap();
        assert_eq!(
            d.endpoint(),
            Ok(Endpoint::Unix {
                path: "/tmp/mysql.sock".into()
            })
        );
        assert!(parse("u:p@tcp(h:99999)/db").unwrap().endpoint().is_err());
        assert!(parse("foo(bar)/db").unwrap().endpoint().is_err());
    }

    #[test]
    fn go_durations() {
        for ok in [
            "0",
            "1s",
            "1.5h",
            "-2m",
            "+3ms",
            "1h2m3s4ms5us6ns",
            "7µs",
            ".5s",
            "5.s",
        ] {
            assert!(go_duration_ok(ok), "{ok}");
        }
        for bad in ["", "1", "s", "1x", "1.2.3s", "--1s", "."] {
            assert!(!go_duration_ok(bad), "{bad}");
        }
    }
}
