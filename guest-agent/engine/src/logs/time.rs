//! RFC 3339 timestamps with nanoseconds, written the way Docker's json-file driver writes
//! them (UTC, always nine fraction digits, `Z`), so a line sorts and compares as text too.
//! Hand-written because the log writer runs in the monitor, which must stay tiny, and the
//! conversion is two short calendar formulas (days <-> civil date, proleptic Gregorian).

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `2024-01-02T03:04:05.000000001Z`. Times before 1970 work too (file times in `docker cp`
/// can be anything).
pub fn format_rfc3339_nano(t: SystemTime) -> String {
    let mut out = Vec::with_capacity(30);
    write_rfc3339_nano(&mut out, t);
    String::from_utf8(out).unwrap_or_default()
}

/// Appends the timestamp without allocating beyond `out`'s growth.
pub(crate) fn write_rfc3339_nano(out: &mut Vec<u8>, t: SystemTime) {
    let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            match d.subsec_nanos() {
                0 => (-(d.as_secs() as i64), 0),
                n => (-(d.as_secs() as i64) - 1, 1_000_000_000 - n),
            }
        }
    };
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    // Writing to a Vec cannot fail.
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        nanos
    );
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`; `None` when it is not one.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let year = digits(&b[0..4])? as i64;
    let (month, day) = (digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, min, sec) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut nanos = 0u32;
    if rest.first() == Some(&b'.') {
        let len = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        // Digits past the ninth are below a nanosecond: dropped.
        for (i, c) in rest[1..=len].iter().take(9).enumerate() {
            nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &rest[1 + len..];
    }
    let offset: i64 = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let minutes = digits(&[*h1, *h2])? as i64 * 60 + digits(&[*m1, *m2])? as i64;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + (hour * 3600 + min * 60 + sec) as i64 - offset;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 -> (year, month, day), using 400-year eras of 146097 days with
/// years starting in March, so the leap day is the last day of a year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if month > 2 { month - 3 } else { month + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        let cases = [
            (0u64, 0u32, "1970-01-01T00:00:00.000000000Z"),
            (951_782_400, 5, "2000-02-29T00:00:00.000000005Z"),
            (1_704_164_645, 123_456_789, "2024-01-02T03:04:05.123456789Z"),
            (4_107_542_399, 999_999_999, "2100-02-28T23:59:59.999999999Z"),
        ];
        for (secs, nanos, text) in cases {
            let t = UNIX_EPOCH + Duration::new(secs, nanos);
            assert_eq!(format_rfc3339_nano(t), text);
            assert_eq!(parse_rfc3339(text), Some(t), "{text}");
        }
    }

    #[test]
    fn parses_offsets_and_short_fractions() {
        let utc = parse_rfc3339("2024-01-02T03:04:05.5Z").unwrap();
        assert_eq!(
            utc.duration_since(UNIX_EPOCH).unwrap(),
            Duration::new(1_704_164_645, 500_000_000)
        );
        assert_eq!(parse_rfc3339("2024-01-02T05:04:05.5+02:00"), Some(utc));
        assert_eq!(parse_rfc3339("2024-01-01T23:04:05.5-04:00"), Some(utc));
        assert!(parse_rfc3339("2024-01-02T03:04:05Z").is_some());
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [
            "",
            "2024-01-02",
            "2024-13-02T03:04:05Z",
            "2023-02-29T03:04:05Z",
            "2024-01-02T24:04:05Z",
            "2024-01-02T03:04:05",
            "2024-01-02T03:04:05.Z",
            "2024-01-02T03:04:05+0200",
            "2024-0a-02T03:04:05Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }
}
