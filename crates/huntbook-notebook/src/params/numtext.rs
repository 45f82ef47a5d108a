//! Integer text of any size and the character classes Python's number parsing uses.
//!
//! Parameters keep integers as canonical decimal text so that values beyond 64 bits
//! (which Python handles natively) survive; YAML's binary, octal, hex and base-60
//! forms therefore need an arbitrary-size conversion to decimal.

/// An unsigned integer of any size, as little-endian limbs of nine decimal digits.
#[derive(Debug, Clone, Default)]
pub(crate) struct BigDecimal {
    limbs: Vec<u32>,
}

const LIMB: u64 = 1_000_000_000;

impl BigDecimal {
    pub(crate) fn zero() -> BigDecimal {
        BigDecimal { limbs: Vec::new() }
    }

    /// `self = self * mul + add`.
    pub(crate) fn mul_add(&mut self, mul: u32, add: u32) {
        let mut carry = add as u64;
        for limb in &mut self.limbs {
            let v = *limb as u64 * mul as u64 + carry;
            *limb = (v % LIMB) as u32;
            carry = v / LIMB;
        }
        while carry > 0 {
            self.limbs.push((carry % LIMB) as u32);
            carry /= LIMB;
        }
    }

    /// Decimal text without leading zeros ("0" for zero).
    pub(crate) fn to_text(&self) -> String {
        let mut limbs = self.limbs.iter().rev().skip_while(|l| **l == 0);
        let Some(first) = limbs.next() else { return "0".into() };
        let mut out = first.to_string();
        for limb in limbs {
            out.push_str(&format!("{limb:09}"));
        }
        out
    }

    /// The value of `digits` (each below `base`) read most significant first.
    pub(crate) fn from_digits(digits: impl IntoIterator<Item = u32>, base: u32) -> BigDecimal {
        let mut n = BigDecimal::zero();
        for d in digits {
            n.mul_add(base, d);
        }
        n
    }
}

/// Canonical signed integer text: no `+`, no `-0`.
pub(crate) fn signed(negative: bool, magnitude: &BigDecimal) -> String {
    let text = magnitude.to_text();
    if negative && text != "0" {
        format!("-{text}")
    } else {
        text
    }
}

/// Whether an integer's decimal text is within `min..=max` of a signed 32-bit integer.
pub(crate) fn fits_i32(text: &str) -> bool {
    text.parse::<i64>().is_ok_and(|v| i32::try_from(v).is_ok())
}

/// The exact integer text of a float with no fractional part (`1e22` → 22 digits).
pub(crate) fn integral_float_text(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    // Rust prints the exact decimal expansion of a float, which for an integral value
    // is the integer itself.
    format!("{f:.0}")
}

/// Zero of each run of ten Unicode decimal digits (category Nd, Unicode 14, the data
/// Python 3.11's `int()` and `float()` use). Every run is contiguous, zero to nine.
const DECIMAL_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The value of a Unicode decimal digit (`'7'`, `'٣'`, `'７'`), as Python's `int()` sees it.
pub(crate) fn decimal_value(c: char) -> Option<u32> {
    let c = c as u32;
    let i = DECIMAL_ZEROS.partition_point(|zero| *zero <= c);
    let zero = DECIMAL_ZEROS[i.checked_sub(1)?];
    (c - zero < 10).then_some(c - zero)
}

/// Python's `str.isspace()`, which is what `int()`/`float()`/`str.strip()` trim.
pub(crate) fn py_is_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\u{1c}'..='\u{20}'
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// The whitespace `int()` and `float()` trim: like `str.isspace()` except the ASCII
/// separators `\x1c`-`\x1f`, which CPython's number parsing keeps.
pub(crate) fn py_number_strip(s: &str) -> &str {
    s.trim_matches(|c| py_is_space(c) && !('\u{1c}'..='\u{1f}').contains(&c))
}

/// Python's `str.strip()` with no argument.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(py_is_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_conversions() {
        let hex = BigDecimal::from_digits("ffffffffffffffffffffffff".chars().map(|c| c.to_digit(16).unwrap()), 16);
        assert_eq!(hex.to_text(), "79228162514264337593543950335");
        assert_eq!(BigDecimal::zero().to_text(), "0");
        assert_eq!(signed(true, &BigDecimal::from_digits([0], 10)), "0");
        assert_eq!(signed(true, &BigDecimal::from_digits([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7], 10)), "-10000000007");
    }

    #[test]
    fn integral_floats_are_exact() {
        assert_eq!(integral_float_text(1e22), "10000000000000000000000");
        assert_eq!(integral_float_text(-0.0), "0");
        assert_eq!(integral_float_text(-3.0), "-3");
    }

    #[test]
    fn unicode_digits() {
        assert_eq!(decimal_value('7'), Some(7));
        assert_eq!(decimal_value('٣'), Some(3));
        assert_eq!(decimal_value('７'), Some(7));
        assert_eq!(decimal_value('𝟗'), Some(9));
        assert_eq!(decimal_value('a'), None);
        assert_eq!(decimal_value('²'), None);
        assert_eq!(decimal_value('\u{1FBFA}'), None);
        assert!(fits_i32("2147483647") && !fits_i32("2147483648") && fits_i32("-2147483648"));
        assert!(!fits_i32("-2147483649") && !fits_i32("99999999999999999999999"));
    }

    #[test]
    fn python_whitespace() {
        assert_eq!(py_strip("\u{1c} 5\u{3000}\n"), "5");
        assert_eq!(py_number_strip("\u{1c} 5\u{3000}\n"), "\u{1c} 5");
        assert!(!py_is_space('\u{200b}'));
    }
}
