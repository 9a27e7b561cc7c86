//! YAML scalars turned into text the way compose does (numbers as Go writes them), and
//! sizes (`256m`) into bytes as docker reads them. Pure functions of values, no places.

use serde_yaml::Value;

/// A scalar as text, the way compose turns YAML values into text (`1` -> "1", `True` ->
/// "true", `3.10` -> "3.1", `1e3` -> "1000"); `None` for null.
///
/// Known gap: Go's YAML reads plain `010` as 8 and `1_000` as 1000 (YAML 1.1), serde_yaml as
/// the text `010` and `1_000`; a quoted "010" cannot be told apart from a plain one once
/// parsed, so the reader keeps the text.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.to_string(),
            (None, Some(i), _) => i.to_string(),
            (None, None, Some(f)) => go_float(f),
            _ => n.to_string(),
        }),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A float as Go's `strconv.FormatFloat(f, 'g', -1, 64)` writes it, which is what compose
/// prints: the shortest digits, in exponent form (`1.5e-07`, `1.23456789e+08`) when the
/// exponent is below -4 or 6 and above, else plainly (`100`, `0.0001`, `-0`).
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's `{:e}` gives the shortest digits that read back as `f`: `1.23456789e8`.
    let e = format!("{f:e}");
    let (mantissa, exponent) = e.split_once('e').unwrap_or((&e, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        // Display is the shortest round-trip text without an exponent: `100`, `0.0001`.
        format!("{f}")
    }
}

/// A size as docker reads it (`RAMInBytes`): a number with an optional `b`, `k`, `m`, `g`, `t`
/// or `p` unit (powers of 1024), an optional `i` and `b` after it.
pub fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let number: f64 = s[..digits].parse().ok()?;
    let unit = s[digits..].trim_start().to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let power = match unit {
        "" => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        "p" => 5,
        _ => return None,
    };
    let bytes = number * 1024f64.powi(power);
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_as_compose_writes_them() {
        let cases = [
            (1.0, "1"),
            (1e3, "1000"),
            (0.5, "0.5"),
            (1.5e-7, "1.5e-07"),
            (123456789.0, "1.23456789e+08"),
            (1e21, "1e+21"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-0.0, "-0"),
            (1234567.5, "1.2345675e+06"),
            (3.1, "3.1"),
            (-2.5e-300, "-2.5e-300"),
        ];
        for (f, text) in cases {
            assert_eq!(go_float(f), text, "{f}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("256m"), Some(268_435_456));
        assert_eq!(parse_bytes("2gb"), Some(2_147_483_648));
        assert_eq!(parse_bytes("1024"), Some(1024));
        assert_eq!(parse_bytes("1.5k"), Some(1536));
        assert_eq!(parse_bytes("1 MiB"), Some(1_048_576));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("9e99"), None);
    }
}
