//! Durations as the spec writes them: an integer followed by `s`, `m`, `h` or `d`, and nothing else.

/// Parses `"90s"`, `"5m"`, `"1h"`, `"7d"` into seconds. `None` for anything else, or on overflow.
pub fn parse_seconds(text: &str) -> Option<u64> {
    let unit = text.chars().last()?;
    let digits = &text[..text.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let multiplier = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(multiplier)
}

/// Writes seconds back in the largest unit that divides them exactly: `300` → `"5m"`.
pub fn format_seconds(seconds: u64) -> String {
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if seconds != 0 && seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_each_unit() {
        assert_eq!(parse_seconds("90s"), Some(90));
        assert_eq!(parse_seconds("5m"), Some(300));
        assert_eq!(parse_seconds("1h"), Some(3600));
        assert_eq!(parse_seconds("7d"), Some(604_800));
        assert_eq!(parse_seconds("0s"), Some(0));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "5",
            "m",
            "5 m",
            "1.5h",
            "-1s",
            "5M",
            "1w",
            "1h30m",
            "+5s",
            "٣s",
            "99999999999999999999d",
        ] {
            assert_eq!(parse_seconds(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_in_the_largest_exact_unit() {
        assert_eq!(format_seconds(300), "5m");
        assert_eq!(format_seconds(90), "90s");
        assert_eq!(format_seconds(86_400 * 4), "4d");
        assert_eq!(format_seconds(0), "0s");
    }
}
