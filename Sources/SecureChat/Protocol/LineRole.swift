/// What a line is meant as, when its client can say so: a JSON `password` request is a password and never a name
/// everyone would see (it is taken only at the password prompt), and a `login` is a name, however long, even at
/// the password prompt. A line typed in a terminal cannot say it; the session machine decides what the role
/// allows (`SessionStateMachine.receive`).
public enum LineRole: Sendable, Equatable {
    case password
    case login
}
