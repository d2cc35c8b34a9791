//! Durations written for people, as the errors show them.

use std::fmt;
use std::time::Duration;

/// A duration rounded for people: "250 ms", "30 s", "1.5 s", "2 min", "3 h".
pub(crate) fn human(duration: Duration) -> Human {
    Human(duration)
}

/// See [`human`].
pub(crate) struct Human(Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.as_secs_f64();
        if seconds < 1.0 {
            write!(f, "{} ms", self.0.as_millis())
        } else if seconds < 10.0 {
            write!(f, "{} s", (seconds * 10.0).round() / 10.0)
        } else if seconds < 120.0 {
            write!(f, "{} s", seconds.round())
        } else if seconds < 2.0 * 3600.0 {
            write!(f, "{} min", (seconds / 60.0).round())
        } else if seconds < 2.0 * 86_400.0 {
            write!(f, "{} h", (seconds / 3600.0).round())
        } else {
            write!(f, "{} days", (seconds / 86_400.0).round())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_rounded_for_people() {
        let cases = [
            (Duration::from_millis(250), "250 ms"),
            (Duration::from_millis(1500), "1.5 s"),
            (Duration::from_secs(30), "30 s"),
            (Duration::from_secs(120), "2 min"),
            (Duration::from_secs(600), "10 min"),
            (Duration::from_secs(3 * 3600), "3 h"),
            (Duration::MAX, "213503982334601 days"),
        ];
        for (duration, text) in cases {
            assert_eq!(human(duration).to_string(), text);
        }
    }
}
