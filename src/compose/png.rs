//! A PNG's own header: its signature, size and whether it has alpha, read without ffmpeg (so a
//! zip's frames are checked before they are unpacked, and a dry run unpacks nothing).

use std::io::Read;

/// The eight bytes every PNG starts with.
pub(crate) const SIGNATURE: [u8; 8] = *b"\x89PNG\r\n\x1a\n";
/// How many chunks are read looking for `tRNS` before the image data.
const MAX_CHUNKS: usize = 64;
/// How many bytes of chunks before the image data are read at most.
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// What a PNG's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PngHeader {
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// An alpha channel (colour types 4 and 6), or a `tRNS` chunk before the image data.
    pub(crate) alpha: bool,
}

/// Reads the signature, `IHDR`, and the chunks up to the image data (at most 1 MiB of them).
pub(crate) fn header(reader: impl Read) -> Result<PngHeader, &'static str> {
    let mut reader = reader.take(MAX_HEADER_BYTES);
    let mut signature = [0; 8];
    reader.read_exact(&mut signature).map_err(|_| "shorter than a PNG signature")?;
    if signature != SIGNATURE {
        return Err("not a PNG (no PNG signature)");
    }
    let mut ihdr = [0; 8 + 13 + 4];
    reader.read_exact(&mut ihdr).map_err(|_| "a PNG cut short in its header")?;
    if &ihdr[4..8] != b"IHDR" || ihdr[..4] != 13u32.to_be_bytes() {
        return Err("a PNG without IHDR first");
    }
    let number = |at: usize| u32::from_be_bytes([ihdr[at], ihdr[at + 1], ihdr[at + 2], ihdr[at + 3]]);
    let (width, height, colour) = (number(8), number(12), ihdr[8 + 9]);
    if width == 0 || height == 0 {
        return Err("a PNG of no pixels");
    }
    let mut alpha = matches!(colour, 4 | 6);
    for _ in 0..MAX_CHUNKS {
        if alpha {
            break;
        }
        let mut head = [0; 8];
        if reader.read_exact(&mut head).is_err() {
            break;
        }
        match &head[4..8] {
            b"tRNS" => alpha = true,
            b"IDAT" | b"IEND" => break,
            _ => {
                let skip = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]])) + 4;
                if std::io::copy(&mut (&mut reader).take(skip), &mut std::io::sink()).ok() != Some(skip) {
                    break;
                }
            }
        }
    }
    Ok(PngHeader { width, height, alpha })
}

#[cfg(test)]
mod tests {
    use super::{header, SIGNATURE};

    fn png(colour: u8, chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut bytes = SIGNATURE.to_vec();
        let mut ihdr = 64u32.to_be_bytes().to_vec();
        ihdr.extend(48u32.to_be_bytes());
        ihdr.extend([8, colour, 0, 0, 0]);
        for (kind, data) in [(b"IHDR", ihdr.as_slice())].into_iter().chain(chunks.iter().copied()) {
            bytes.extend((data.len() as u32).to_be_bytes());
            bytes.extend(kind);
            bytes.extend(data);
            bytes.extend([0; 4]);
        }
        bytes
    }

    #[test]
    fn size_and_alpha_come_from_the_header_and_non_pngs_are_refused() {
        let rgba = header(png(6, &[(b"IDAT", b"")]).as_slice()).unwrap();
        assert_eq!((rgba.width, rgba.height, rgba.alpha), (64, 48, true));
        assert!(!header(png(2, &[(b"IDAT", b"")]).as_slice()).unwrap().alpha);
        assert!(header(png(3, &[(b"PLTE", &[0; 6]), (b"tRNS", &[0])]).as_slice()).unwrap().alpha);
        assert!(header(&b"GIF89a..........................."[..]).is_err());
        assert!(header(&SIGNATURE[..]).is_err());
    }
}
