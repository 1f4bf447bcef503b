internal import COpenSSL

/// OpenSSL's error queue is per thread, and an event loop thread serves many connections: an error
/// left behind by one connection would be blamed on the next. So every SSL call is preceded by
/// `clear()`, and every failure drains the queue into text at once.
enum OpenSSLErrorQueue {
    /// Empties the queue. `ERR_clear_error` walks all 16 slots of the thread's queue whatever they hold, 60-90 ns in
    /// OpenSSL 3.0, and this runs before every `SSL_write` and `SSL_read`, that is for every record
    /// (bench/tls-records: 605 against 527 ns per record written). The queue is almost always empty, and
    /// `ERR_peek_error` is the test `SSL_get_error` itself makes, so an entry it cannot see could not be blamed on
    /// the next call either.
    static func clear() {
        if ERR_peek_error() != 0 {
            ERR_clear_error()
        }
    }

    /// Empties the queue and returns its entries as one line, oldest first, e.g.
    /// `error:0A000086:SSL routines::certificate verify failed`. `fallback` is used if the queue is empty.
    static func drain(fallback: String = "no reason given by OpenSSL") -> String {
        var entries: [String] = []
        while true {
            var data: UnsafePointer<CChar>?
            var flags: CInt = 0
            let code = ERR_get_error_all(nil, nil, nil, &data, &flags)
            if code == 0 {
                break
            }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            var entry = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let data, flags & ERR_TXT_STRING != 0 {
                let extra = String(cString: data)
                if !extra.isEmpty {
                    entry += " (\(extra))"
                }
            }
            entries.append(entry)
        }
        return entries.isEmpty ? fallback : entries.joined(separator: "; ")
    }
}
