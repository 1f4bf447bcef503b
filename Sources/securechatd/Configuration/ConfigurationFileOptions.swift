import ArgumentParser

/// `--config` and `--check-config`: where settings come from besides the flags, and a dry run.
struct ConfigurationFileOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "A YAML (or, by its .json extension, JSON) file of settings: each key is a long flag's name.",
            discussion: "Flags win over SECURECHAT_<NAME> variables, which win over the file (README.md).",
            valueName: "path"))
    var file: String?

    @Flag(
        name: .customLong("check-config"),
        help: "Check the configuration without binding: print every value and its origin; exit 0 if valid, else 64.")
    var check = false
}
