/// What a logged-in user's account command asks of the accounts (through the session, like a hub request).
public enum AccountRequest: Sendable, Equatable {
    /// `/register <password>`, or `/register cert` with `password` nil. `ownsAccount` when the user logged in to
    /// this name's account (it may then set a password it has not got: after a one-time password was used).
    case register(Username, password: String?, ownsAccount: Bool)
    case changePassword(Username, old: String, new: String)
    case addCertificate(Username)
    case listCertificates(Username)
    case deleteCertificate(Username, fingerprint: String)
    case unregister(Username, password: String)
    /// Operators: `/account drop` and `/account reset`.
    case drop(String)
    case reset(String)
}

/// The answer to an `AccountRequest`.
public enum AccountReply: Sendable, Equatable {
    case registered(String, byCertificate: Bool)
    case passwordSet(String)
    case passwordChanged
    case certificateAdded(String)
    case certificates([String])
    case certificateRemoved(String)
    case unregistered(String, heldUntil: Timestamp)
    case dropped(String)
    /// The one-time password, for the operator's eyes only.
    case reset(String, oneTimePassword: String)

    case notRegistered(String)
    case alreadyRegistered(String)
    case held(String)
    case full
    case wrongPassword
    case throttled
    case busy
    case passwordLength
    case registeringTooFast
    case noCertificate
    case certificateTaken
    case tooManyCertificates
    case noSuchCertificate
    /// Removing it would leave the account no way to log in.
    case lastCredential
    case notOperator
    /// In a cluster: the database could not be asked, so nothing changed.
    case unavailable
}
