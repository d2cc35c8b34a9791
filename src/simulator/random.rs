//! Random ids and tokens from the operating system's random source: what makes job ids,
//! upload tokens and delivery ids unguessable to other tenants.

/// `n` random bytes from the operating system, as lowercase hex.
pub(crate) fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness (never seen on a supported platform): still unique, less secret.
        bytes.iter_mut().for_each(|b| *b = fastrand::u8(..));
    }
    hex::encode(bytes)
}
