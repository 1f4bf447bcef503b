import NIOCore
import Testing

/// Groups every Policy suite so that `swift test --filter Policy` selects them all.
@Suite enum PolicyTests {}

/// A fixed point on the fake monotonic clock the policy tests drive by hand.
let fakeStart = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
