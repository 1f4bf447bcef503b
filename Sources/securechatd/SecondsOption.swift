/// The bounds of an option given in whole seconds.
///
/// Such a value becomes a `TimeAmount` in nanoseconds, and `TimeAmount.seconds` traps past about 292 years: a
/// typo like `--login-timeout 9223372036854775807` must be a usage error, not a crash at start. A year is longer
/// than any timeout this server has a use for.
enum SecondsOption {
    static let maximum = 365 * 24 * 3600

    /// Throws unless `value` is within `minimum...maximum`, naming the flag and the value.
    static func check(_ value: Int, flag: String, minimum: Int = 1) throws {
        try OptionBounds.seconds(minimum: minimum).check(value, flag: flag)
    }
}
