//! `tail`: where the last N lines start, found by scanning the files backwards from the
//! end, so `docker logs --tail 10` of a 30 MiB log reads a few KiB, not the whole log.

use std::fs::File;
use std::os::unix::fs::FileExt;

const BLOCK: usize = 16 * 1024;

/// Given files newest first, the file index and byte offset where the last `n` complete
/// lines begin. Bytes after the live file's last newline (a line still being written) are
/// not a line yet.
pub(super) fn start_of_last(files: &[File], n: usize) -> std::io::Result<(usize, u64)> {
    let mut need = n;
    for (index, file) in files.iter().enumerate() {
        // The (need+1)th newline from the end closes the line before the ones we want.
        match nth_newline_from_end(file, need + 1)? {
            Ok(offset) => return Ok((index, offset + 1)),
            Err(found) => {
                need -= found;
                // Files start on a line boundary: this whole file is wanted, no older one.
                if need == 0 {
                    return Ok((index, 0));
                }
            }
        }
    }
    Ok((files.len().saturating_sub(1), 0))
}

/// `Ok(offset)` of the `k`th newline counting from the end, or `Err(count)` of the
/// newlines the file has when it has fewer than `k`.
fn nth_newline_from_end(file: &File, k: usize) -> std::io::Result<Result<u64, usize>> {
    let mut end = file.metadata()?.len();
    let mut block = vec![0u8; BLOCK];
    let mut seen = 0;
    while end > 0 {
        let start = end.saturating_sub(BLOCK as u64);
        let buf = &mut block[..(end - start) as usize];
        file.read_exact_at(buf, start)?;
        for (i, &b) in buf.iter().enumerate().rev() {
            if b == b'\n' {
                seen += 1;
                if seen == k {
                    return Ok(Ok(start + i as u64));
                }
            }
        }
        end = start;
    }
    Ok(Err(seen))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(content: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(content).unwrap();
        f
    }

    #[test]
    fn finds_the_start_across_files() {
        // Newest first: the live file has an unfinished line at its end.
        let files = [file(b"e\nf\ng"), file(b"c\nd\n"), file(b"a\nb\n")];
        assert_eq!(start_of_last(&files, 0).unwrap(), (0, 4));
        assert_eq!(start_of_last(&files, 1).unwrap(), (0, 2));
        assert_eq!(start_of_last(&files, 2).unwrap(), (0, 0));
        assert_eq!(start_of_last(&files, 3).unwrap(), (1, 2));
        assert_eq!(start_of_last(&files, 5).unwrap(), (2, 2));
        assert_eq!(start_of_last(&files, 6).unwrap(), (2, 0));
        assert_eq!(start_of_last(&files, 100).unwrap(), (2, 0));
    }

    #[test]
    fn scans_across_block_boundaries() {
        let mut content = Vec::new();
        for i in 0..10_000 {
            content.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        let files = [file(&content)];
        let (index, offset) = start_of_last(&files, 3).unwrap();
        assert_eq!(index, 0);
        assert_eq!(
            &content[offset as usize..],
            b"line 9997\nline 9998\nline 9999\n"
        );
    }
}
