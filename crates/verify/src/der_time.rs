//! UTCTime / GeneralizedTime (RFC 5280 §4.1.2.5) to Unix seconds, for CRL and OCSP fields.

/// Parses a DER Time element (tag 0x17 UTCTime or 0x18 GeneralizedTime, `Z` form only).
pub fn parse_time(el: &[u8]) -> Option<i64> {
    let tag = *el.first()?;
    let body = crate::sigverify::contents(el)?;
    let s = std::str::from_utf8(body).ok()?;
    let s = s.strip_suffix('Z')?;
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (year, rest) = match tag {
        0x17 if s.len() == 12 => {
            let yy = digits(0..2)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, 2)
        }
        0x18 if s.len() == 14 => (digits(0..4)?, 4),
        _ => return None,
    };
    let month = digits(rest..rest + 2)?;
    let day = digits(rest + 2..rest + 4)?;
    let hour = digits(rest + 4..rest + 6)?;
    let minute = digits(rest + 6..rest + 8)?;
    let second = digits(rest + 8..rest + 10)?;
    let date = time::Date::from_calendar_date(
        i32::try_from(year).ok()?,
        time::Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let t = time::Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    Some(
        time::PrimitiveDateTime::new(date, t)
            .assume_utc()
            .unix_timestamp(),
    )
}

/// Formats Unix seconds as RFC 3339 (for messages and JSON).
pub fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("@{secs}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_time_forms_parse_and_junk_does_not() {
        assert_eq!(parse_time(b"\x17\x0d250601000000Z"), Some(1_748_736_000));
        assert_eq!(parse_time(b"\x18\x0f20250601000000Z"), Some(1_748_736_000));
        assert_eq!(parse_time(b"\x18\x0f20251301000000Z"), None);
        assert_eq!(parse_time(b"\x17\x0d2506010000+0Z"), None);
        assert_eq!(parse_time(b"\x17\x05"), None);
    }
}
