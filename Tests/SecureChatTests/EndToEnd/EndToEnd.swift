import Testing

/// The end-to-end suites, run one test at a time: they start real servers and sockets on a small shared
/// machine, and the memory measurements in `ResourceBoundsTests` need the process to be otherwise quiet.
@Suite("End to end over real sockets", .serialized)
struct EndToEnd {}
