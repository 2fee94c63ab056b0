//! Standard padded base64 (Go's `base64.StdEncoding`, which `encoding/json` uses for
//! `[]byte`) for the bulk of a record: encoding appended straight to a record being written,
//! and strict decoding (padding required, no whitespace, zero bits after the last byte) of
//! a record's `Data`. On x86-64 CPUs with AVX-512 VBMI (Intel Ice Lake and later, AMD Zen 4
//! and later) whole blocks are done here, 48 bytes to 64 characters in three instructions
//! and back in five, after Muła and Lemire, "Base64 encoding and decoding at almost the
//! speed of a memory copy" (2019). The last block (the only one that can hold padding) and
//! every other CPU go to `base64-simd` (AVX2, SSSE3 or scalar), so it alone decides padding
//! and trailing bits. `base64-simd` has no AVX-512 code, and `simdutf`, which has, is C++:
//! it would make the module need `libstdc++` and run a static constructor when loaded, and
//! its decoder skips whitespace. Results are checked against the independent `base64` crate
//! at every length up to 4 KiB, around the large-record sizes, with random and corrupted
//! input, and with input that ends at an unmapped page (tests below).
#![allow(unsafe_code)] // the VBMI kernels: `std::arch` intrinsics, raw loads and stores

/// The length of the base64 of `n` bytes.
pub(crate) fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Appends the base64 of `data` to `out`.
pub(crate) fn encode_append(data: &[u8], out: &mut String) {
    #[cfg(target_arch = "x86_64")]
    let data = vbmi::encode_blocks_append(data, out);
    base64_simd::STANDARD.encode_append(data, out);
}

/// Decodes strict standard base64 (exactly what `base64_simd::STANDARD` accepts); `None`
/// if it is not.
pub(crate) fn decode_to_vec(b64: &[u8]) -> Option<Vec<u8>> {
    #[cfg(target_arch = "x86_64")]
    if let Some(decoded) = vbmi::decode_to_vec(b64) {
        return decoded;
    }
    base64_simd::STANDARD.decode_to_vec(b64).ok()
}

/// Decodes strict standard base64 into `head` and then `tail`, which together must be
/// exactly its decoded length: `false` otherwise, or if it is not strict base64 (both may
/// then hold anything). With a `tail` of at most [`SPLIT_TAIL_MAX`] bytes it accepts
/// exactly what [`decode_to_vec`] accepts, and writes the same bytes, split. A longer
/// `tail` is taken when the whole decoded length is at most 512 bytes, or when it is at
/// most `64 - head.len() % 3` (what shares the stack buffer with it), and refused
/// otherwise. For a decrypt that writes a record's
/// ciphertext straight into memory its caller provides (`head`) and its tag and nonce
/// aside (`tail`).
///
/// The first `head.len() / 3` whole groups of four characters are decoded on their own:
/// they must hold only alphabet characters and decode to exactly `3 * groups` bytes, so a
/// `=` there (which whole-input decoding refuses before the end) is refused too. The rest,
/// the only place padding may be, is decoded strictly into a stack buffer. Base64 groups
/// decode independently, so the input is strict base64 exactly when both parts are.
pub(crate) fn decode_split(b64: &[u8], head: &mut [u8], tail: &mut [u8]) -> bool {
    use base64_simd::AsOut;
    // Short input: one strict decode into the stack, then two copies, costs less than two
    // decodes (a 64-byte plaintext's record: 84 fewer instructions per call).
    const SHORT: usize = 512;
    if head.len() + tail.len() <= SHORT {
        // Uninitialized: `decode` writes what it returns (zeroing 512 bytes first cost
        // more than the copies).
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); SHORT];
        let need = head.len() + tail.len();
        if base64_simd::STANDARD.decoded_length(b64).ok() != Some(need) {
            return false;
        }
        let Ok(out) = base64_simd::STANDARD.decode(b64, buf[..need].as_out()) else {
            return false;
        };
        let (a, b) = out.split_at(head.len());
        head.copy_from_slice(a);
        tail.copy_from_slice(b);
        return true;
    }
    let whole = head.len() / 3 * 3;
    let Some((lead, rest)) = b64.split_at_checked(whole / 3 * 4) else {
        return false;
    };
    let (head_lead, head_rest) = head.split_at_mut(whole);
    if !decode_unpadded_into(lead, head_lead) {
        return false;
    }
    let need = head_rest.len() + tail.len();
    let mut buf = [0u8; SPLIT_TAIL_MAX + 2];
    if need > buf.len() || base64_simd::STANDARD.decoded_length(rest).ok() != Some(need) {
        return false;
    }
    let Ok(out) = base64_simd::STANDARD.decode(rest, buf[..need].as_out()) else {
        return false;
    };
    let (a, b) = out.split_at(head_rest.len());
    head_rest.copy_from_slice(a);
    tail.copy_from_slice(b);
    true
}

/// The longest `tail` [`decode_split`] takes for any input (its stack buffer holds the
/// tail and the at most two bytes of `head` that share a group with it).
pub(crate) const SPLIT_TAIL_MAX: usize = 62;

/// Decodes `b64`, a whole number of unpadded four-character groups, into exactly `out`
/// (`out.len()` is three bytes per group); `false` if a character is not in the alphabet
/// (`=` included) or the lengths disagree.
fn decode_unpadded_into(b64: &[u8], out: &mut [u8]) -> bool {
    if !b64.len().is_multiple_of(4) || b64.len() / 4 * 3 != out.len() {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    let (b64, out) = match vbmi::decode_unpadded_blocks(b64, out) {
        Some(rest) => rest,
        None => return false,
    };
    use base64_simd::AsOut;
    // A group with padding decodes to fewer bytes than `out` has: refused below.
    let want = out.len();
    matches!(base64_simd::STANDARD.decode(b64, out.as_out()), Ok(d) if d.len() == want)
}

#[cfg(target_arch = "x86_64")]
mod vbmi {
    use std::arch::x86_64::{
        __m512i, _mm512_loadu_si512, _mm512_madd_epi16, _mm512_maddubs_epi16,
        _mm512_mask_storeu_epi8, _mm512_maskz_loadu_epi8, _mm512_movepi8_mask,
        _mm512_multishift_epi64_epi8, _mm512_or_si512, _mm512_permutex2var_epi8,
        _mm512_permutexvar_epi8, _mm512_set1_epi32, _mm512_set1_epi64, _mm512_setzero_si512,
        _mm512_storeu_si512,
    };

    use base64_simd::AsOut;

    /// Input bytes per step; their base64 is 64 bytes.
    pub(super) const BLOCK: usize = 48;

    /// A byte mask for the first [`BLOCK`] bytes of a 64-byte register.
    const LOW_48: u64 = (1 << BLOCK) - 1;

    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// For each output group of four bytes `j`, the input bytes `3j+1, 3j, 3j+2, 3j+1`: as a
    /// little-endian 32-bit word, the first two hold input bytes `3j, 3j+1` as a big-endian
    /// 16-bit value, the last two `3j+1, 3j+2`.
    const SPREAD: [u8; 64] = {
        let mut t = [0u8; 64];
        let mut j = 0;
        while j < 16 {
            let b = 3 * j as u8;
            t[4 * j] = b + 1;
            t[4 * j + 1] = b;
            t[4 * j + 2] = b + 2;
            t[4 * j + 3] = b + 1;
            j += 1;
        }
        t
    };

    /// Bit offsets of the four 6-bit values in each 32-bit word laid out by [`SPREAD`]: the
    /// first value is bits 15..10 of the low half, the second bits 9..4, the third bits
    /// 11..6 of the high half (22), the fourth its bits 5..0 (16); and the same plus 32 for
    /// the second word of each 64-bit lane. `vpmultishiftqb` takes the 8 bits from each
    /// offset; the alphabet lookup (`vpermb`) reads only the low 6 of them.
    const OFFSETS: i64 = i64::from_le_bytes([10, 4, 22, 16, 42, 36, 54, 48]);

    /// The 6-bit value of each ASCII character, `0x80` for one outside the alphabet.
    const VALUES: [u8; 128] = {
        let mut t = [0x80u8; 128];
        let mut i = 0;
        while i < 64 {
            t[ALPHABET[i] as usize] = i as u8;
            i += 1;
        }
        t
    };

    /// For each 3 output bytes `j`, where they sit in the packed 32-bit word `j` (big-endian
    /// in its low three bytes); the last 16 entries are unused.
    const GATHER: [u8; 64] = {
        let mut t = [0u8; 64];
        let mut j = 0;
        while j < 16 {
            let b = 4 * j as u8;
            t[3 * j] = b + 2;
            t[3 * j + 1] = b + 1;
            t[3 * j + 2] = b;
            j += 1;
        }
        t
    };

    #[cfg(test)]
    thread_local! {
        /// Set by tests to run the portable path on a CPU that has the kernel.
        pub(super) static OFF: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Whether this CPU runs the kernel (the detection is cached by `std`).
    pub(super) fn available() -> bool {
        #[cfg(test)]
        if OFF.with(std::cell::Cell::get) {
            return false;
        }
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vbmi")
    }

    /// Appends the base64 of `data`'s whole 48-byte blocks to `out` if this CPU can, and
    /// returns the bytes left to encode (all of `data` otherwise). Whole blocks are whole
    /// base64 quanta, so the rest's encoding simply follows.
    pub(super) fn encode_blocks_append<'a>(data: &'a [u8], out: &mut String) -> &'a [u8] {
        let blocks = data.len() / BLOCK;
        if blocks == 0 || !available() {
            return data;
        }
        let n = blocks * 64;
        out.reserve(n + super::encoded_len(data.len() - blocks * BLOCK));
        // SAFETY: only base64 alphabet bytes (ASCII) are appended, so `out` stays UTF-8,
        // and its length is set only after they are written.
        let bytes = unsafe { out.as_mut_vec() };
        let len = bytes.len();
        // SAFETY: the CPU has AVX-512F/BW/VBMI (`available`); `data` holds `blocks * 48`
        // readable bytes, and `reserve` left at least `blocks * 64` writable bytes after `len`.
        unsafe { encode_blocks(data.as_ptr(), blocks, bytes.as_mut_ptr().add(len)) };
        // SAFETY: `encode_blocks` initialized exactly those `n` bytes, within capacity.
        unsafe { bytes.set_len(len + n) };
        &data[blocks * BLOCK..]
    }

    /// Encodes `blocks` blocks of 48 bytes from `src` as `blocks * 64` bytes at `dst`.
    ///
    /// # Safety
    /// The CPU supports AVX-512F, AVX-512BW and AVX-512VBMI; `src` is valid for reading
    /// `blocks * 48` bytes and `dst` for writing `blocks * 64`, and the two do not overlap.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub(super) unsafe fn encode_blocks(src: *const u8, blocks: usize, dst: *mut u8) {
        // SAFETY: both tables are 64-byte arrays, read whole (unaligned loads). Each block's
        // load below is masked to its 48 bytes: a masked-off byte is neither read nor able
        // to fault.
        let (alphabet, spread) = unsafe {
            (
                _mm512_loadu_si512(ALPHABET.as_ptr().cast::<__m512i>()),
                _mm512_loadu_si512(SPREAD.as_ptr().cast::<__m512i>()),
            )
        };
        let offsets = _mm512_set1_epi64(OFFSETS);
        for i in 0..blocks {
            // SAFETY: block `i`'s 48 bytes are within `src`; the 16 masked off are not read.
            let input = unsafe { _mm512_maskz_loadu_epi8(LOW_48, src.add(i * BLOCK).cast()) };
            let spread = _mm512_permutexvar_epi8(spread, input);
            let sextets = _mm512_multishift_epi64_epi8(offsets, spread);
            let chars = _mm512_permutexvar_epi8(sextets, alphabet);
            // SAFETY: block `i`'s 64 output bytes are within `dst`.
            unsafe { _mm512_storeu_si512(dst.add(i * 64).cast::<__m512i>(), chars) };
        }
    }

    /// Decodes `b64` if this CPU can and it is long enough to be worth it: `Some` of the
    /// result (`None` inside when it is not strict base64), or `None` to leave it to
    /// `base64-simd`. All whole 64-character blocks but the last go through the kernel; the
    /// rest (1 to 64 characters, the only place padding may be) through `base64-simd`.
    /// The blocks start at multiples of 4 characters, so the input is strict base64 exactly
    /// when the blocks hold only alphabet characters and the rest is strict base64.
    pub(super) fn decode_to_vec(b64: &[u8]) -> Option<Option<Vec<u8>>> {
        if b64.len() <= 2 * 64 || !available() {
            return None;
        }
        let blocks = (b64.len() - 1) / 64;
        let (head, rest) = b64.split_at(blocks * 64);
        let Ok(rest_len) = base64_simd::STANDARD.decoded_length(rest) else {
            return Some(None);
        };
        let n = blocks * BLOCK;
        let mut out = Vec::with_capacity(n + rest_len);
        // SAFETY: the CPU has AVX-512F/BW/VBMI (`available`); `head` holds `blocks * 64`
        // readable bytes and `out` has room for `blocks * 48`.
        if !unsafe { decode_blocks(head.as_ptr(), blocks, out.as_mut_ptr()) } {
            return Some(None);
        }
        // SAFETY: `decode_blocks` initialized the first `n` bytes, within capacity.
        unsafe { out.set_len(n) };
        let written = match base64_simd::STANDARD.decode(rest, out.spare_capacity_mut().as_out()) {
            Ok(tail) => tail.len(),
            Err(_) => return Some(None),
        };
        debug_assert_eq!(written, rest_len);
        // SAFETY: `decode` initialized `written` bytes of the spare capacity after `n`.
        unsafe { out.set_len(n + written) };
        Some(Some(out))
    }

    /// For [`super::decode_unpadded_into`]: decodes the whole 64-character blocks of
    /// unpadded `b64` into the start of `out` (three bytes per four characters) if this CPU
    /// can, and returns what is left of both; `None` if a block holds a character outside
    /// the alphabet (`=` included).
    pub(super) fn decode_unpadded_blocks<'a, 'b>(
        b64: &'a [u8],
        out: &'b mut [u8],
    ) -> Option<(&'a [u8], &'b mut [u8])> {
        let blocks = b64.len() / 64;
        if blocks == 0 || !available() {
            return Some((b64, out));
        }
        if out.len() < blocks * BLOCK {
            return None;
        }
        // SAFETY: the CPU has AVX-512F/BW/VBMI (`available`); `b64` holds `blocks * 64`
        // readable bytes and `out` has room for `blocks * 48` (checked above); a slice and a
        // `&mut` slice cannot overlap.
        if !unsafe { decode_blocks(b64.as_ptr(), blocks, out.as_mut_ptr()) } {
            return None;
        }
        Some((&b64[blocks * 64..], &mut out[blocks * BLOCK..]))
    }

    /// Decodes `blocks` blocks of 64 base64 characters from `src` into `blocks * 48` bytes
    /// at `dst`; `false` (with `dst` partly written) if any character is outside the
    /// alphabet (`=` included: it can only end the input, which is never in a block).
    ///
    /// # Safety
    /// The CPU supports AVX-512F, AVX-512BW and AVX-512VBMI; `src` is valid for reading
    /// `blocks * 64` bytes and `dst` for writing `blocks * 48`, and the two do not overlap.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub(super) unsafe fn decode_blocks(src: *const u8, blocks: usize, dst: *mut u8) -> bool {
        // SAFETY: `VALUES` has 128 bytes and `GATHER` 64, each read in whole 64-byte loads.
        let (low, high, gather) = unsafe {
            (
                _mm512_loadu_si512(VALUES.as_ptr().cast::<__m512i>()),
                _mm512_loadu_si512(VALUES.as_ptr().add(64).cast::<__m512i>()),
                _mm512_loadu_si512(GATHER.as_ptr().cast::<__m512i>()),
            )
        };
        // Multipliers: in each 16-bit pair, first value * 64 + second; then in each 32-bit
        // word, first pair * 4096 + second: the four values as 24 bits.
        let pairs = _mm512_set1_epi32(0x0140_0140);
        let words = _mm512_set1_epi32(0x0001_1000);
        // Bit 7 of a byte is set for input that is not ASCII or not in the alphabet.
        let mut bad = _mm512_setzero_si512();
        for i in 0..blocks {
            // SAFETY: block `i`'s 64 characters are within `src`.
            let input = unsafe { _mm512_loadu_si512(src.add(i * 64).cast::<__m512i>()) };
            let values = _mm512_permutex2var_epi8(low, input, high);
            bad = _mm512_or_si512(bad, _mm512_or_si512(values, input));
            let packed = _mm512_madd_epi16(_mm512_maddubs_epi16(values, pairs), words);
            let bytes = _mm512_permutexvar_epi8(gather, packed);
            // SAFETY: the store is masked to block `i`'s 48 output bytes, within `dst`.
            unsafe { _mm512_mask_storeu_epi8(dst.add(i * BLOCK).cast(), LOW_48, bytes) };
        }
        _mm512_movepi8_mask(bad) == 0
    }
}

/// Runs `f` on the AVX-512 kernel (where the CPU has it), then again on this thread with
/// the portable path forced, so a test checks both whatever CPU runs it.
#[cfg(test)]
pub(crate) fn both_paths(f: impl Fn()) {
    f();
    #[cfg(target_arch = "x86_64")]
    if vbmi::available() {
        struct On;
        impl Drop for On {
            fn drop(&mut self) {
                vbmi::OFF.with(|o| o.set(false));
            }
        }
        let _on = On;
        vbmi::OFF.with(|o| o.set(true));
        f();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use proptest::prelude::*;

    fn check(data: &[u8]) {
        both_paths(|| {
            let mut out = String::from("prefix:");
            encode_append(data, &mut out);
            assert_eq!(out.len(), 7 + encoded_len(data.len()));
            assert_eq!(&out[7..], STANDARD.encode(data), "length {}", data.len());
        });
    }

    #[test]
    fn matches_the_base64_crate_at_every_small_length() {
        for len in 0..4097usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 131 + len * 7) as u8).collect();
            check(&data);
        }
        // Every byte value at every position of a block: block `k` holds `k + position`.
        let all: Vec<u8> = (0..256 * 48 + 5).map(|i| (i / 48 + i % 48) as u8).collect();
        check(&all);
        check(&[0xff; 300]);
        check(&[0; 300]);
    }

    #[test]
    fn matches_the_base64_crate_around_large_sizes() {
        for base in [65_536usize, 131_072, 1 << 20] {
            for len in base + 28 - 50..base + 28 + 50 {
                let data: Vec<u8> = (0..len)
                    .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                    .collect();
                check(&data);
            }
        }
    }

    /// `decode_to_vec` against the `base64` crate (strict, padded): the same bytes, or
    /// refused by both.
    fn check_decode(b64: &[u8]) {
        let theirs = STANDARD.decode(b64).ok();
        both_paths(|| {
            let ours = decode_to_vec(b64);
            assert_eq!(ours, theirs, "input of {} characters", b64.len());
        });
        assert_eq!(theirs, base64_simd::STANDARD.decode_to_vec(b64).ok());
    }

    #[test]
    fn decodes_what_it_encodes_at_every_small_length() {
        for len in 0..3073usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 97 + len * 3) as u8).collect();
            let mut b64 = String::new();
            encode_append(&data, &mut b64);
            assert_eq!(decode_to_vec(b64.as_bytes()).as_deref(), Some(&data[..]));
            check_decode(b64.as_bytes());
        }
    }

    /// Every byte value at every position of a block: refused unless it is an alphabet
    /// character, and then decoded as the `base64` crate does.
    #[test]
    fn every_byte_value_in_every_block_position() {
        let data: Vec<u8> = (0..600usize).map(|i| (i * 13) as u8).collect();
        let mut b64 = String::new();
        encode_append(&data, &mut b64);
        let b64 = b64.into_bytes();
        for at in (0..64).chain(64..128).chain([700, 750, 799]) {
            for v in 0..=255u8 {
                let mut t = b64.clone();
                t[at] = v;
                check_decode(&t);
            }
        }
    }

    #[test]
    fn refuses_what_go_refuses_and_strict_base64_refuses() {
        let data = vec![0x5au8; 1000];
        let mut b64 = String::new();
        encode_append(&data, &mut b64);
        let b64 = b64.into_bytes();
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for at in [0usize, 63, 64, 200, 1000, b64.len() - 1] {
            for insert in [
                &b"\n"[..],
                b"\r\n",
                b" ",
                b"\t",
                b"=",
                b"==",
                b"-",
                b"_",
                b"\0",
                b"\xc3\xa9",
            ] {
                let mut t = b64.clone();
                t.splice(at..at, insert.iter().copied());
                cases.push(t);
            }
        }
        cases.push(b64[..b64.len() - 1].to_vec());
        cases.push([&b64[..], b"===="].concat());
        cases.push([&b64[..], b"AAAA"].concat());
        let mut no_pad = b64.clone();
        no_pad.retain(|&b| b != b'=');
        cases.push(no_pad);
        for t in &cases {
            check_decode(t);
        }
    }

    /// `decode_split` against the `base64` crate's whole decode (strict, padded) for every
    /// split of `b64`'s decoded length with a tail of up to [`SPLIT_TAIL_MAX`] bytes (and a
    /// few lengths that are wrong): the same bytes where that decode gives that length,
    /// refused otherwise. On both paths.
    fn check_split(b64: &[u8], heads: impl Iterator<Item = usize> + Clone) {
        both_paths(|| check_split_on_this_path(b64, heads.clone()));
    }

    fn check_split_on_this_path(b64: &[u8], heads: impl Iterator<Item = usize>) {
        let whole = STANDARD.decode(b64).ok();
        let decoded = base64_simd::STANDARD.decoded_length(b64).unwrap_or(0);
        for head_len in heads {
            for total in [decoded, decoded + 1, decoded.saturating_sub(1)] {
                let Some(tail_len) = total.checked_sub(head_len) else {
                    continue;
                };
                if tail_len > SPLIT_TAIL_MAX {
                    continue;
                }
                let (mut head, mut tail) = (vec![0xa5; head_len], vec![0x5a; tail_len]);
                let ok = decode_split(b64, &mut head, &mut tail);
                match &whole {
                    Some(v) if v.len() == total => {
                        assert!(ok, "{} chars split {head_len}+{tail_len}", b64.len());
                        assert_eq!(&v[..head_len], &head[..]);
                        assert_eq!(&v[head_len..], &tail[..]);
                    }
                    _ => assert!(!ok, "{} chars split {head_len}+{tail_len}", b64.len()),
                }
            }
        }
    }

    /// What `decode_split`'s doc says of a tail longer than [`SPLIT_TAIL_MAX`]: taken
    /// for a short input, and for a long one exactly up to `64 - head.len() % 3`.
    #[test]
    fn takes_a_long_tail_as_documented() {
        for total in [500usize, 512, 513, 1000, 1001, 1002] {
            let data: Vec<u8> = (0..total).map(|i| (i * 53 + 1) as u8).collect();
            let b64 = STANDARD.encode(&data);
            for tail_len in SPLIT_TAIL_MAX..=70 {
                let head_len = total - tail_len;
                both_paths(|| {
                    let (mut head, mut tail) = (vec![0; head_len], vec![0; tail_len]);
                    let ok = decode_split(b64.as_bytes(), &mut head, &mut tail);
                    let expected = total <= 512 || tail_len <= 64 - head_len % 3;
                    assert_eq!(ok, expected, "{total} bytes split {head_len}+{tail_len}");
                    if ok {
                        assert_eq!((&head[..], &tail[..]), data.split_at(head_len));
                    }
                });
            }
        }
    }

    #[test]
    fn splits_like_a_whole_decode_at_every_small_length() {
        for len in 0..700usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 89 + len) as u8).collect();
            let mut b64 = String::new();
            encode_append(&data, &mut b64);
            check_split(b64.as_bytes(), 0..=len);
        }
    }

    #[test]
    fn splits_like_a_whole_decode_around_large_sizes() {
        for len in [
            65_536usize + 28,
            131_072 + 27,
            (1 << 20) + 28,
            (1 << 20) + 29,
        ] {
            let data: Vec<u8> = (0..len)
                .map(|i| (i.wrapping_mul(40_503) >> 7) as u8)
                .collect();
            let mut b64 = String::new();
            encode_append(&data, &mut b64);
            check_split(b64.as_bytes(), (len - 64..=len).chain([0, 1, 48, len / 2]));
        }
    }

    /// A character out of place anywhere (padding and `=` in the first part, non-alphabet
    /// bytes in a kernel block, in the short rest, on the split itself) is refused by both.
    #[test]
    fn split_refuses_what_a_whole_decode_refuses() {
        let data: Vec<u8> = (0..1000usize).map(|i| (i * 7) as u8).collect();
        let mut b64 = String::new();
        encode_append(&data, &mut b64);
        let b64 = b64.into_bytes();
        for at in [
            0usize,
            1,
            3,
            63,
            64,
            65,
            700,
            1290,
            1295,
            1296,
            b64.len() - 2,
            b64.len() - 1,
        ] {
            for v in [b'=', b'-', b'_', b' ', b'\n', 0, 0x80, 0xff, b'A', b'/'] {
                let mut t = b64.clone();
                t[at] = v;
                check_split(&t, [972usize, 970, 971, 1000, 0, 960].into_iter());
            }
        }
        // Padding that ends the first part: two valid encodings one after the other, split
        // where the first ends (strict base64 as a whole refuses padding before the end).
        for (a, b) in [(971usize, 30usize), (970, 30), (971, 1), (20, 40)] {
            let mut t = String::new();
            encode_append(&data[..a], &mut t);
            let first = t.len() / 4 * 3;
            encode_append(&data[..b], &mut t);
            check_split(t.as_bytes(), first..first + 3);
        }
    }

    proptest! {
        #[test]
        fn splits_like_a_whole_decode_with_corruption(
            data in proptest::collection::vec(any::<u8>(), 0..2000),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
            head in any::<prop::sample::Index>(),
        ) {
            let mut b64 = String::new();
            encode_append(&data, &mut b64);
            let mut b64 = b64.into_bytes();
            for (at, v) in edits {
                if !b64.is_empty() {
                    let i = at.index(b64.len());
                    b64[i] = v;
                }
            }
            let split = head.index(data.len() + 1);
            check_split(&b64, [split, data.len().saturating_sub(28)].into_iter());
        }

        #[test]
        fn decodes_like_the_base64_crate_with_corruption(
            data in proptest::collection::vec(any::<u8>(), 0..3000),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        ) {
            let mut b64 = String::new();
            encode_append(&data, &mut b64);
            let mut b64 = b64.into_bytes();
            if edits.is_empty() {
                both_paths(|| assert_eq!(decode_to_vec(&b64).as_deref(), Some(&data[..])));
            }
            for (at, v) in edits {
                if !b64.is_empty() {
                    let i = at.index(b64.len());
                    b64[i] = v;
                }
            }
            check_decode(&b64);
        }

        #[test]
        fn matches_the_base64_crate_on_random_bytes(
            data in proptest::collection::vec(any::<u8>(), 0..5000),
            prefix in "[ -~é]{0,9}",
        ) {
            both_paths(|| {
                let mut out = prefix.clone();
                encode_append(&data, &mut out);
                assert_eq!(&out[..prefix.len()], prefix.as_str());
                assert_eq!(&out[prefix.len()..], STANDARD.encode(&data));
            });
        }
    }

    /// Blocks that end where an unmapped page begins: the kernel's 64-byte loads are
    /// masked to 48 bytes, so nothing past the input is touched (an unmasked load would
    /// fault here).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn reads_nothing_past_the_input() {
        if !vbmi::available() {
            eprintln!("no AVX-512 VBMI on this CPU: the kernel is not used, nothing to check");
            return;
        }
        // SAFETY: an anonymous private mapping of two pages, checked; the second is made
        // inaccessible, and the mapping is unmapped at the end.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
            let p = libc::mmap(
                std::ptr::null_mut(),
                2 * page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(p, libc::MAP_FAILED);
            assert_eq!(
                libc::mprotect(p.cast::<u8>().add(page).cast(), page, libc::PROT_NONE),
                0
            );
            for blocks in [1usize, 2, 5, 85] {
                let len = blocks * vbmi::BLOCK;
                let start = p.cast::<u8>().add(page - len);
                for i in 0..len {
                    *start.add(i) = (i * 37 + 11) as u8;
                }
                let data = std::slice::from_raw_parts(start, len);
                let mut out = vec![0u8; blocks * 64];
                vbmi::encode_blocks(start, blocks, out.as_mut_ptr());
                assert_eq!(out, STANDARD.encode(data).into_bytes());
                check(data);
            }
            // Base64 that ends at the unmapped page, decoded.
            for len in [3 * 64 + 4, 63 * 64, 64 * 64] {
                let data: Vec<u8> = (0..len / 4 * 3).map(|i| (i * 29) as u8).collect();
                let b64 = STANDARD.encode(&data);
                let start = p.cast::<u8>().add(page - b64.len());
                std::ptr::copy_nonoverlapping(b64.as_ptr(), start, b64.len());
                let at_the_edge = std::slice::from_raw_parts(start, b64.len());
                assert_eq!(decode_to_vec(at_the_edge), Some(data));
            }
            libc::munmap(p, 2 * page);
        }
    }
}
