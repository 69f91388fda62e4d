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
    text.trim_ascii().parse::<Timestamp>()
}

#[cfg(test)]
mod tests {
    use super::*;

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
