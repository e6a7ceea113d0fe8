//! Just enough ZIP for Sesam's config archives: read stored or deflated entries (what
//! sesam-py's Python `zipfile` writes) and write stored entries (what sesam-py reads back).

use std::io::Read;

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

/// Whether `b` starts like a ZIP archive.
pub fn is_zip(b: &[u8]) -> bool {
    b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06")
}

/// The files of an archive as (name, bytes), in archive order; directories are skipped.
pub fn read(b: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let bad = |what: &str| {
        format!("the uploaded ZIP archive is damaged ({what}); upload the zip sesam-py makes, or a JSON array")
    };
    let eocd = (0..b.len().saturating_sub(21))
        .rev()
        .find(|&i| b[i..].starts_with(b"PK\x05\x06"))
        .ok_or_else(|| bad("no end of central directory"))?;
    let count = u16_at(b, eocd + 10).ok_or_else(|| bad("short end record"))? as usize;
    let mut p = u32_at(b, eocd + 16).ok_or_else(|| bad("short end record"))? as usize;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if u32_at(b, p) != Some(0x0201_4b50) {
            return Err(bad("central directory entry"));
        }
        let field = |o| u16_at(b, p + o).ok_or_else(|| bad("central directory entry"));
        let method = field(10)?;
        let csize = u32_at(b, p + 20).ok_or_else(|| bad("sizes"))? as usize;
        let (nlen, xlen, clen) = (
            field(28)? as usize,
            field(30)? as usize,
            field(32)? as usize,
        );
        let local = u32_at(b, p + 42).ok_or_else(|| bad("offset"))? as usize;
        let name =
            String::from_utf8_lossy(b.get(p + 46..p + 46 + nlen).ok_or_else(|| bad("name"))?)
                .into_owned();
        p += 46 + nlen + xlen + clen;
        if name.ends_with('/') {
            continue;
        }
        let lh = |o| u16_at(b, local + o).ok_or_else(|| bad("local header"));
        let start = local + 30 + lh(26)? as usize + lh(28)? as usize;
        let data = b
            .get(start..start + csize)
            .ok_or_else(|| bad("entry data"))?;
        let bytes = match method {
            0 => data.to_vec(),
            8 => {
                let mut v = Vec::new();
                flate2::read::DeflateDecoder::new(data)
                    .read_to_end(&mut v)
                    .map_err(|e| bad(&format!("deflate: {e}")))?;
                v
            }
            m => return Err(format!("ZIP entry {name:?} uses compression method {m}; only stored and deflate are supported")),
        };
        out.push((name, bytes));
    }
    Ok(out)
}

/// An archive of stored (uncompressed) entries.
pub fn write(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let offset = out.len() as u32;
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed
            v.extend_from_slice(&0x0800u16.to_le_bytes()); // UTF-8 names
            v.extend_from_slice(&0u16.to_le_bytes()); // stored
            v.extend_from_slice(&0u16.to_le_bytes()); // time
            v.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
            v.extend_from_slice(&crc.sum().to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(&(name.len() as u16).to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // made by
        common(&mut central);
        central.extend_from_slice(&[0; 8]); // comment len, disk, internal attr, external attr (part)
        central.extend_from_slice(&[0; 2]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let files = vec![
            ("pipes/a.conf.json".to_string(), b"{\"_id\":\"a\"}".to_vec()),
            (
                "node-metadata.conf.json".to_string(),
                "{\"x\":\"\u{f8}\"}".as_bytes().to_vec(),
            ),
        ];
        assert_eq!(read(&write(&files)).unwrap(), files);
        assert!(read(b"PK\x03\x04garbage").is_err());
    }

    #[test]
    fn reads_deflated_entries() {
        use std::io::Write;
        let body = b"[{\"_id\": \"p\", \"type\": \"pipe\"}]".repeat(20);
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&body).unwrap();
        let comp = enc.finish().unwrap();
        // A stored archive with its entry patched to deflate.
        let mut z = write(&[("x.json".into(), comp.clone())]);
        z[8] = 8; // local header method
        let cd = z.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        z[cd + 10] = 8; // central header method
        assert_eq!(read(&z).unwrap()[0].1, body);
    }
}
