//! The API's time formats.
//!
//! Requests carry `YYYY-MM-DDThh:mm:ssZ` (V1 `Timestamp`, V3 `x-acs-date`),
//! and ECS writes its response times the same way; eflo-controller answers
//! with milliseconds at Beijing time (`2023-04-10T10:53:46.156+08:00`).
//! Readers accept any RFC 3339 time, so both parse alike.

use jiff::Timestamp;

/// The request timestamp format: UTC, whole seconds.
const TIMESTAMP: &str = "%Y-%m-%dT%H:%M:%SZ";

/// `YYYY-MM-DDThh:mm:ssZ`: the request timestamp and ECS response format.
pub fn format_timestamp(at: Timestamp) -> String {
    at.strftime(TIMESTAMP).to_string()
}

/// Reads a request timestamp, refusing anything but the exact format.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    jiff::fmt::strtime::parse(TIMESTAMP, text)
        .and_then(|t| t.to_datetime())
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC))
        .map(|z| z.timestamp())
        .ok()
}

/// `2023-04-10T10:53:46.156+08:00`: the eflo-controller response format.
pub fn format_beijing_millis(at: Timestamp) -> String {
    let beijing = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
    at.to_zoned(beijing)
        .strftime("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// Reads a response time: RFC 3339 with `Z` or an offset, surrounding
/// whitespace ignored (the eflo sample has a trailing newline).
pub fn parse_response_time(text: &str) -> Result<Timestamp, jiff::Error> {
    let text = text.trim_ascii();
    match utc_seconds(text) {
        Some(at) => Ok(at),
        None => text.parse::<Timestamp>(),
    }
}

/// ECS's own shape, `YYYY-MM-DDThh:mm:ssZ`, read directly: a fleet check
/// reads two million of them, and jiff's general RFC 3339 parser was a
/// tenth of its CPU. Anything else (offsets, fractions, a leap second, a
/// date that does not exist) is left to jiff, which decides.
fn utc_seconds(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let number = |from: usize, to: usize| {
        b[from..to].iter().try_fold(0i64, |n, &digit| {
            digit
                .is_ascii_digit()
                .then(|| n * 10 + i64::from(digit - b'0'))
        })
    };
    let (year, month, day) = (number(0, 4)?, number(5, 7)?, number(8, 10)?);
    let (hour, minute, second) = (number(11, 13)?, number(14, 16)?, number(17, 19)?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // jiff checks the day exists in its month and year.
    let date = jiff::civil::Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()?;
    let days = i64::from(date.since(jiff::civil::date(1970, 1, 1)).ok()?.get_days());
    Timestamp::from_second(days * 86_400 + hour * 3_600 + minute * 60 + second).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The direct reading of ECS's shape agrees with jiff's on every
        /// second from 1900 to 2200, and leaves other shapes to it.
        #[test]
        fn the_direct_reading_agrees_with_jiff(second in -2_208_988_800i64..7_258_118_400i64) {
            let at = Timestamp::from_second(second).unwrap();
            let text = format_timestamp(at);
            proptest::prop_assert_eq!(utc_seconds(&text), Some(at));
            proptest::prop_assert_eq!(parse_response_time(&text).unwrap(), at);
        }
    }

    #[test]
    fn other_shapes_and_impossible_dates_are_left_to_jiff() {
        for text in [
            "2023-04-10T10:53:46.156+08:00",
            "2023-04-10T02:53:46.156Z",
            "2023-02-29T00:00:00Z",
            "2016-12-31T23:59:60Z",
            "2023-04-10T24:00:00Z",
            "2023-04-10 10:53:46Z",
            "+2023-4-10T10:53:46Z",
        ] {
            assert_eq!(utc_seconds(text), None, "{text}");
            assert_eq!(
                parse_response_time(text).ok(),
                text.parse::<Timestamp>().ok(),
                "{text}"
            );
        }
    }

    #[test]
    fn formats_match_the_samples() {
        let at: Timestamp = "2023-04-10T02:53:46.156Z".parse().unwrap();
        assert_eq!(format_timestamp(at), "2023-04-10T02:53:46Z");
        assert_eq!(format_beijing_millis(at), "2023-04-10T10:53:46.156+08:00");
        assert_eq!(
            format_timestamp("2016-02-23T12:46:24.789Z".parse().unwrap()),
            "2016-02-23T12:46:24Z"
        );
    }

    #[test]
    fn request_timestamps_parse_strictly() {
        let at = parse_timestamp("2016-02-23T12:46:24Z").unwrap();
        assert_eq!(format_timestamp(at), "2016-02-23T12:46:24Z");
        for bad in [
            "yesterday",
            "2016-02-23T12:46:24",
            "2016-02-23T20:46:24+08:00",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn response_times_accept_both_products() {
        let z = parse_response_time("2020-09-11T08:30:55Z").unwrap();
        let offset = parse_response_time("2020-09-11T16:30:55.000+08:00\n").unwrap();
        assert_eq!(z, offset);
        assert!(parse_response_time("yesterday").is_err());
    }
}
