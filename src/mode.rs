//! File permission modes, compared as octal numbers.
//!
//! The API echoes `FileMode` as `"0644"`, `"644"` or the JSON number `777`
//! (PROTOCOL.md §5.5), and users write `"0644"` or `644`: all of these must
//! compare equal, so modes are parsed to a number before anything else.

use std::fmt;
use std::str::FromStr;

/// A chmod-style permission mode, at most `0o7777`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileMode(u32);

/// SendFile's default mode.
pub const DEFAULT_MODE: FileMode = FileMode(0o644);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModeError {
    #[error("a mode cannot be empty")]
    Empty,
    #[error("`{0}` is not an octal mode: only the digits 0 to 7 are allowed")]
    NotOctal(String),
    #[error("`{0}` is larger than 7777, the largest chmod mode")]
    TooLarge(String),
}

impl FileMode {
    pub const fn from_bits(bits: u32) -> Option<Self> {
        if bits <= 0o7777 {
            Some(Self(bits))
        } else {
            None
        }
    }

    pub const fn bits(self) -> u32 {
        self.0
    }
}

impl FromStr for FileMode {
    type Err = ModeError;

    /// Accepts `644`, `0644`, `00644` and `0o644`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let digits = trimmed.strip_prefix("0o").unwrap_or(trimmed);
        if digits.is_empty() {
            return Err(ModeError::Empty);
        }
        if !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return Err(ModeError::NotOctal(s.to_owned()));
        }
        let significant = digits.trim_start_matches('0');
        if significant.len() > 4 {
            return Err(ModeError::TooLarge(s.to_owned()));
        }
        let bits = u32::from_str_radix(
            if significant.is_empty() {
                "0"
            } else {
                significant
            },
            8,
        )
        .map_err(|_| ModeError::NotOctal(s.to_owned()))?;
        Self::from_bits(bits).ok_or_else(|| ModeError::TooLarge(s.to_owned()))
    }
}

impl fmt::Display for FileMode {
    /// Always four digits, the way `stat -c %a` pads with `printf %04o`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_the_same_mode_are_equal() {
        let a: FileMode = "644".parse().unwrap();
        let b: FileMode = "0644".parse().unwrap();
        let c: FileMode = "0o644".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a, DEFAULT_MODE);
        assert_eq!("777".parse::<FileMode>().unwrap().bits(), 0o777);
        assert_eq!("4755".parse::<FileMode>().unwrap().to_string(), "4755");
        assert_eq!("0".parse::<FileMode>().unwrap().to_string(), "0000");
    }

    #[test]
    fn invalid_modes_are_refused() {
        assert_eq!("".parse::<FileMode>(), Err(ModeError::Empty));
        assert!(matches!(
            "0648".parse::<FileMode>(),
            Err(ModeError::NotOctal(_))
        ));
        assert!(matches!(
            "rw-r--r--".parse::<FileMode>(),
            Err(ModeError::NotOctal(_))
        ));
        assert!(matches!(
            "17777".parse::<FileMode>(),
            Err(ModeError::TooLarge(_))
        ));
        assert!(matches!(
            "-644".parse::<FileMode>(),
            Err(ModeError::NotOctal(_))
        ));
    }
}
