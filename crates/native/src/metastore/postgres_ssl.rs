//! libpq's TLS parameters in a PostgreSQL connection string, read before tokio-postgres
//! parses the rest (it knows `sslmode` only as disable/prefer/require, and no
//! `sslrootcert`). Both forms are handled: a URL (`postgres://...?sslmode=verify-full&
//! sslrootcert=/ca.pem`, values %-encoded) and key=value (`host=h sslmode='require'`,
//! values optionally single-quoted with backslash escapes). The two parameters are cut
//! out of the string; everything else goes to tokio-postgres unchanged.
//!
//! The modes, as libpq documents them: `disable` (plain TCP); `prefer`, the default
//! (TLS if the server offers it, without checking the certificate, else plain TCP);
//! `require` (TLS, certificate not checked, unless a root certificate is given, which
//! then makes it `verify-ca`, as in libpq); `verify-ca` (the chain must lead to a trusted
//! root); `verify-full` (that, and the certificate must name the host). `allow` is refused.
#![forbid(unsafe_code)]

use tokio_postgres::config::SslMode;

use super::tls::Verify;
use crate::error::Error;

/// The TLS settings a connection string asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SslParams {
    /// What tokio-postgres is told (whether to ask the server for TLS, and insist).
    pub mode: SslMode,
    /// How much of the certificate is checked.
    pub verify: Verify,
    /// `sslrootcert`, if given.
    pub root_cert: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out of `conn`; returns the rest and what they said.
/// `has_ca_file` is whether a CA file was configured apart from the string (it counts as
/// `sslrootcert` for `require`).
pub(crate) fn split(conn: &str, has_ca_file: bool) -> Result<(String, SslParams), Error> {
    let (rest, mode, root_cert) =
        if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
            split_url(conn)
        } else {
            split_key_values(conn)
        };
    let has_root = root_cert.is_some() || has_ca_file;
    let (mode, verify) = match mode.as_deref() {
        None | Some("prefer") => (SslMode::Prefer, Verify::Nothing),
        Some("disable") => (SslMode::Disable, Verify::Nothing),
        Some("require") if has_root => (SslMode::Require, Verify::Chain),
        Some("require") => (SslMode::Require, Verify::Nothing),
        Some("verify-ca") => (SslMode::Require, Verify::Chain),
        Some("verify-full") => (SslMode::Require, Verify::Full),
        Some(_) => {
            return Err(Error::config(
                "PostgreSQL sslmode must be disable, prefer, require, verify-ca or verify-full",
            ))
        }
    };
    Ok((
        rest,
        SslParams {
            mode,
            verify,
            root_cert,
        },
    ))
}

type Split = (String, Option<String>, Option<String>);

fn split_url(url: &str) -> Split {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None, None);
    };
    let (mut mode, mut root) = (None, None);
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match percent_decode(key).as_str() {
            "sslmode" => mode = Some(percent_decode(value)),
            "sslrootcert" => root = Some(percent_decode(value)),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rest, mode, root)
}

/// `%XX` decoding (invalid escapes are kept as written, as tokio-postgres does).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn split_key_values(conn: &str) -> Split {
    let (mut mode, mut root) = (None, None);
    let mut rest = String::with_capacity(conn.len());
    let mut s = conn;
    loop {
        let start = conn.len() - s.trim_start().len();
        s = s.trim_start();
        if s.is_empty() {
            break;
        }
        let Some((key, value, after)) = key_value(s) else {
            // Not key=value syntax: leave the remainder to tokio-postgres's parser, whose
            // error is then reported (without quoting the string).
            rest.push_str(&conn[start..]);
            break;
        };
        match key {
            "sslmode" => mode = Some(value),
            "sslrootcert" => root = Some(value),
            _ => {
                rest.push_str(&s[..s.len() - after.len()]);
                rest.push(' ');
            }
        }
        s = after;
    }
    (rest.trim_end().to_owned(), mode, root)
}

/// One `key = value` at the start of `s`: the key, the unquoted value, and what follows.
fn key_value(s: &str) -> Option<(&str, String, &str)> {
    let key_end = s.find(|c: char| c == '=' || c.is_whitespace())?;
    let key = &s[..key_end];
    let s = s[key_end..].trim_start().strip_prefix('=')?.trim_start();
    let mut value = String::new();
    let mut chars = s.char_indices();
    if s.starts_with('\'') {
        chars.next();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => value.push(chars.next()?.1),
                '\'' => return Some((key, value, &s[i + 1..])),
                c => value.push(c),
            }
        }
        None // unterminated quote
    } else {
        while let Some((i, c)) = chars.next() {
            match c {
                c if c.is_whitespace() => return Some((key, value, &s[i..])),
                '\\' => value.push(chars.next()?.1),
                c => value.push(c),
            }
        }
        Some((key, value, ""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let (rest, p) = split(
            "postgres://u:p@h:5/db?sslmode=verify-full&connect_timeout=3&sslrootcert=%2Ftmp%2Fca.pem",
            false,
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p@h:5/db?connect_timeout=3");
        assert_eq!(
            p,
            SslParams {
                mode: SslMode::Require,
                verify: Verify::Full,
                root_cert: Some("/tmp/ca.pem".into())
            }
        );
        let (rest, p) = split("postgres://h/db?sslmode=require", false).unwrap();
        assert_eq!(
            (rest.as_str(), p.verify),
            ("postgres://h/db", Verify::Nothing)
        );
        let (_, p) = split("postgres://h/db?sslmode=require&sslrootcert=/ca", false).unwrap();
        assert_eq!(
            p.verify,
            Verify::Chain,
            "require + a root is verify-ca, as in libpq"
        );
        let (_, p) = split("postgres://h/db?sslmode=require", true).unwrap();
        assert_eq!(p.verify, Verify::Chain);
        let (_, p) = split("postgres://h/db", false).unwrap();
        assert_eq!((p.mode, p.verify), (SslMode::Prefer, Verify::Nothing));
        assert!(split("postgres://h/db?sslmode=allow", false).is_err());
    }

    #[test]
    fn key_values() {
        let (rest, p) = split(
            "host=h password='a b\\'c' sslmode = 'verify-ca' sslrootcert=/x\\ y.pem dbname=d",
            false,
        )
        .unwrap();
        assert_eq!(rest, "host=h password='a b\\'c' dbname=d");
        assert_eq!((p.mode, p.verify), (SslMode::Require, Verify::Chain));
        assert_eq!(p.root_cert.as_deref(), Some("/x y.pem"));
        let (rest, p) = split("host=h sslmode=disable", false).unwrap();
        assert_eq!((rest.as_str(), p.mode), ("host=h", SslMode::Disable));
        let (rest, _) = split("host=h password='unterminated", false).unwrap();
        assert_eq!(rest, "host=h password='unterminated");
    }
}
