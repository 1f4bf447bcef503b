extension Command {
    /// The account commands. A password is the rest of the line, spaces included; in `/password` the old one is
    /// the first word, or the text between the first two quotes when the line starts with `"` (for a password
    /// with spaces in it).
    static func parseAccount(
        _ name: String, rest: String, argument: String?, tail: String?
    ) -> Result<AccountCommand, Problem> {
        switch name {
        case "register":
            guard !rest.isEmpty else { return .failure(.usage("/register <password> or /register cert")) }
            if rest.lowercased() == "cert" { return .success(.registerCertificate) }
            return .success(.register(password: rest))
        case "password":
            let usage = Problem.usage("/password <old> <new> (quote the old one if it has spaces: \"old one\" new)")
            if rest.hasPrefix("\"") {
                let afterQuote = rest.dropFirst()
                guard let close = afterQuote.range(of: "\" ") else { return .failure(usage) }
                let new = afterQuote[close.upperBound...].drop(while: { $0 == " " })
                guard !new.isEmpty else { return .failure(usage) }
                return .success(.changePassword(old: String(afterQuote[..<close.lowerBound]), new: String(new)))
            }
            guard let argument, let tail else { return .failure(usage) }
            return .success(.changePassword(old: argument, new: tail))
        case "cert":
            switch (argument?.lowercased(), tail) {
            case ("add", nil): return .success(.addCertificate)
            case ("list", nil): return .success(.listCertificates)
            case ("del", let fingerprint?), ("delete", let fingerprint?):
                return .success(.deleteCertificate(fingerprint: fingerprint))
            default: return .failure(.usage("/cert add, /cert list or /cert del <fingerprint>"))
            }
        case "unregister":
            guard !rest.isEmpty else { return .failure(.usage("/unregister <password>")) }
            return .success(.unregister(password: rest))
        default:
            switch (argument?.lowercased(), tail) {
            case ("drop", let target?) where !target.contains(" "): return .success(.drop(name: target))
            case ("reset", let target?) where !target.contains(" "): return .success(.reset(name: target))
            default: return .failure(.usage("/account drop <name> or /account reset <name>"))
            }
        }
    }
}
