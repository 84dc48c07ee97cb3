//! The user properties Brekeke's `setUserProperty` / `getUserProperty` name, as Patchbay
//! maps them onto its user model, and what an extension may be.

use crate::Failure;

/// The user properties Patchbay maps onto its user model (compat-specs/brekeke/properties.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    /// Display name.
    Name,
    /// SIP password (write-only: stored as digest HA1s, read back as "").
    Password,
    /// Voicemail PIN (write-only, stored hashed).
    Pin,
    /// Seconds the user's phones ring (1..=600).
    RingerTime,
    /// Forwarding destinations, comma-separated; "" turns forwarding off.
    PhoneForward,
}

impl Property {
    /// Every property, in the order `getUserPropertyNames` lists them.
    pub const ALL: [(&'static str, Property); 5] = [
        ("name", Property::Name),
        ("password", Property::Password),
        ("pin", Property::Pin),
        ("ringertime", Property::RingerTime),
        ("phoneforward", Property::PhoneForward),
    ];

    pub fn parse(name: &str) -> Option<Property> {
        Property::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| *p)
    }

    /// Check a value before anything is written (a bulk set writes all or nothing).
    pub fn validate(self, value: &str) -> Result<(), Failure> {
        let ok = match self {
            Property::Name => value.chars().count() <= 128 && !value.chars().any(char::is_control),
            Property::Password => {
                !value.is_empty() && value.len() <= 128 && !value.chars().any(char::is_control)
            }
            Property::Pin => {
                !value.is_empty() && value.len() <= 16 && value.bytes().all(|b| b.is_ascii_digit())
            }
            Property::RingerTime => value.parse::<u32>().is_ok_and(|s| (1..=600).contains(&s)),
            Property::PhoneForward => {
                value.is_empty()
                    || value
                        .split(',')
                        .all(|p| crate::vendors::native::valid_party(p.trim()))
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Failure::bad(self.name(), "invalid value"))
        }
    }

    pub fn name(self) -> &'static str {
        Property::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("", |(n, _)| n)
    }
}

/// Whether `user` can be an extension (createUser).
pub fn valid_extension(user: &str) -> bool {
    !user.is_empty()
        && user.len() <= 32
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}
