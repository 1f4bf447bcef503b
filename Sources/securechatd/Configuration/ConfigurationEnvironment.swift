/// The `SECURECHAT_*` variables: one per setting (`SECURECHAT_MAX_LINE`), plus `SECURECHAT_CLUSTER_URL`, the
/// older name of `SECURECHAT_CLUSTER`. Any other `SECURECHAT_*` variable is an error (a typo must not be
/// ignored), except `SECURECHAT_TEST_*` and `SECURECHAT_FUZZ_*`, which belong to the tests and the fuzzers.
struct ConfigurationEnvironment: Sendable {
    /// The settings' variables that are set and not empty, under their canonical names.
    let variables: [String: String]
    /// The variable each setting came from, as origins and errors name it (the older name when it was used).
    let labels: [String: String]
    let problems: [String]

    static let clusterURLAlias = "SECURECHAT_CLUSTER_URL"
    static let reservedPrefixes = ["SECURECHAT_TEST_", "SECURECHAT_FUZZ_"]

    init(_ environment: [String: String]) {
        let keys = ConfigurationKey.all
        let byVariable = Dictionary(uniqueKeysWithValues: keys.map { ($0.environmentName, $0) })
        var variables: [String: String] = [:]
        var labels: [String: String] = [:]
        var problems: [String] = []
        for (name, value) in environment.sorted(by: { $0.key < $1.key })
        where name.hasPrefix(ConfigurationKey.environmentPrefix) {
            if Self.reservedPrefixes.contains(where: { name.hasPrefix($0) }) { continue }
            let key = name == Self.clusterURLAlias ? ConfigurationKey.named("cluster") : byVariable[name]
            guard let key else {
                let hint = KeySuggestion.hint(for: name, among: keys.map(\.environmentName) + [Self.clusterURLAlias])
                problems.append(
                    "\(ShownValue.quoted(name, secret: false).dropFirst().dropLast()): unknown variable\(hint)")
                continue
            }
            guard !value.isEmpty else { continue }  // set but empty is unset, as SECURECHAT_CLUSTER_URL always was
            if let earlier = labels[key.name] {
                problems.append("\(earlier) and \(name) both set \(key.name); give one")
                continue
            }
            variables[key.environmentName] = value
            labels[key.name] = name
        }
        self.variables = variables
        self.labels = labels
        self.problems = problems
    }
}
