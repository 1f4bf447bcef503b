import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal W3C WebDriver client for the browser tests: a `chromedriver` child process on a loopback port, and
/// the few commands the tests use (navigate, find by CSS, type, click, read text, run a script, screenshot,
/// window size). HTTP/1.1 is spoken directly over a NIO socket, one connection per command: chromedriver answers
/// every command with one JSON body and a Content-Length, and this needs no HTTP client package (nor
/// FoundationNetworking, whose libcurl the sanitizer runs would have to know about).
///
/// Only ``withWebDriver(_:)`` starts one, and the process never outlives it (``withProcess``); a session is only
/// made by ``WebDriver/withSession(width:height:_:)``, which deletes it (and so quits the browser) in every path.
/// A browser outlives a chromedriver that is stopped without deleting its session (a cancelled test, a hung
/// chromedriver), so each browser also gets a profile directory under one made for this driver, and
/// ``withWebDriver(_:)`` finally kills, by process id, whatever still runs with that directory in its command line.
struct WebDriver: Sendable {
    static let chromedriverPath = "/usr/bin/chromedriver"
    static let chromiumPath = "/usr/bin/chromium"

    /// Whether this machine has both (Debian's `chromium` and `chromium-driver`).
    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: chromedriverPath)
            && FileManager.default.isExecutableFile(atPath: chromiumPath)
    }

    /// A failsafe for one command (a page load on a loaded machine can take seconds); nothing is timed.
    static let commandTimeout: Duration = SanitizedBuild.scaled(.seconds(60))

    let port: Int
    fileprivate let process: ProcessRunner
    /// The directory the browsers' profiles go in; its path marks their processes.
    fileprivate let profileRoot: String

    /// Starts a browser session whose window is `width` × `height` CSS pixels of page (``BrowserSession/resize``),
    /// runs `body`, and deletes the session whether `body` returned or threw.
    func withSession<T: Sendable>(
        width: Int, height: Int, _ body: (BrowserSession) async throws -> T
    ) async throws -> T {
        let capabilities: JSONValue = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    // The server's development certificate is signed by the test CA, which the browser does not know.
                    "acceptInsecureCerts": true,
                    // The console (CSP violations, script errors) is read back by the tests.
                    "goog:loggingPrefs": ["browser": "ALL"],
                    "goog:chromeOptions": [
                        "binary": .string(Self.chromiumPath),
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            .string("--window-size=\(width),\(height)"),
                            .string("--user-data-dir=\(profileRoot)/\(UUID().uuidString)"),
                        ],
                    ],
                ]
            ]
        ]
        let answer = try await command("POST", "/session", capabilities)
        guard let id = answer["sessionId"]?.string else {
            throw WebDriverError("POST /session: no session id in \(answer)")
        }
        let session = BrowserSession(driver: self, id: id)
        do {
            try await session.resize(width: width, height: height)
            let result = try await body(session)
            try await session.delete()
            return result
        } catch {
            try? await session.delete()
            throw error
        }
    }

    /// Sends one command; returns its answer's `value`, or throws WebDriver's error (`no such element`...) with
    /// its message.
    @discardableResult
    func command(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        let payload = try body.map { try JSONEncoder().encode($0) }
        let response = try await LoopbackHTTP.request(
            method: method, port: port, path: path, body: payload.map { Array($0) }, timeout: Self.commandTimeout)
        let decoded: JSONValue
        do {
            decoded = try JSONDecoder().decode(JSONValue.self, from: Data(response.body))
        } catch {
            let text = String(decoding: response.body.prefix(500), as: UTF8.self)
            throw WebDriverError("\(method) \(path): HTTP \(response.status), not JSON: \(text)")
        }
        let value = decoded["value"] ?? .null
        if response.status != 200 {
            let kind = value["error"]?.string ?? "HTTP \(response.status)"
            let message = value["message"]?.string ?? "\(decoded)"
            throw WebDriverError("\(method) \(path): \(kind): \(message)")
        }
        return value
    }

    /// Polls `/status` until chromedriver says it is ready (it binds its port a moment after it starts).
    fileprivate func waitUntilReady() async throws {
        var lastProblem = "no answer yet"
        try await eventually(
            "chromedriver to answer on port \(port)",
            {
                if let status = await process.exitStatus {
                    throw WebDriverError("chromedriver exited (\(status)): \(await process.output())")
                }
                do {
                    return try await command("GET", "/status")["ready"]?.bool == true
                } catch {
                    lastProblem = "\(error)"
                    try await Task.sleep(for: .milliseconds(100))
                    return false
                }
            }, lastSeen: { lastProblem })
    }
}

/// Starts chromedriver on a free loopback port, waits until it answers, runs `body`, and stops chromedriver
/// whether `body` returned or threw.
func withWebDriver<T: Sendable>(_ body: (WebDriver) async throws -> T) async throws -> T {
    let port = try await freeLoopbackPort()
    let profileRoot = FileManager.default.temporaryDirectory
        .appendingPathComponent("securechat-webdriver-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: profileRoot, withIntermediateDirectories: true)
    defer {
        killProcesses(naming: profileRoot)
        try? FileManager.default.removeItem(atPath: profileRoot)
    }
    // chromedriver listens on loopback only unless told otherwise (--allowed-ips); it is told nothing else.
    return try await withProcess(WebDriver.chromedriverPath, ["--port=\(port)"]) { process in
        let driver = WebDriver(port: port, process: process, profileRoot: profileRoot)
        try await driver.waitUntilReady()
        return try await body(driver)
    }
}

/// Kills (SIGKILL, by process id) every process whose command line contains `marker`, a path made for this
/// test run: the browsers a lost session left behind, and their helpers. Linux's `/proc`; elsewhere nothing.
private func killProcesses(naming marker: String) {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return }
    for entry in entries {
        guard let pid = Int32(entry), pid != getpid(),
            let commandLine = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
        else { continue }
        if String(decoding: commandLine, as: UTF8.self).contains(marker) {
            kill(pid, SIGKILL)
        }
    }
}

/// A port the kernel has just given out on 127.0.0.1, closed again: for a child process (chromedriver) that
/// takes a port number and cannot be handed a socket. Another process could take it in between; on a test
/// machine's loopback that does not happen in practice, and if it did chromedriver would exit and say so.
func freeLoopbackPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port
    try await channel.close()
    guard let port else { throw WebDriverError("the kernel gave no port") }
    return port
}

/// One browser (a WebDriver session).
struct BrowserSession: Sendable {
    let driver: WebDriver
    let id: String

    /// WebDriver's key for Enter, sent as a character (its Private Use Area code point).
    static let enter = "\u{E007}"

    func navigate(to url: String) async throws {
        try await driver.command("POST", "/session/\(id)/url", ["url": .string(url)])
    }

    /// The first element that matches a CSS selector; throws `no such element` if none does.
    func element(_ selector: String) async throws -> BrowserElement {
        let answer = try await driver.command(
            "POST", "/session/\(id)/element", ["using": "css selector", "value": .string(selector)])
        return try BrowserElement(session: self, reference: answer)
    }

    /// Every element that matches a CSS selector, in document order.
    func elements(_ selector: String) async throws -> [BrowserElement] {
        let answer = try await driver.command(
            "POST", "/session/\(id)/elements", ["using": "css selector", "value": .string(selector)])
        return try (answer.array ?? []).map { try BrowserElement(session: self, reference: $0) }
    }

    /// The rendered text of the first element that matches (what a reader sees, not the markup).
    func text(of selector: String) async throws -> String {
        try await element(selector).text()
    }

    /// Runs a function body in the page (`return ...` gives its value back). The page's Content-Security-Policy
    /// does not apply: chromedriver runs it through the DevTools protocol, not as a page script.
    @discardableResult
    func execute(_ script: String, _ arguments: [JSONValue] = []) async throws -> JSONValue {
        try await driver.command(
            "POST", "/session/\(id)/execute/sync", ["script": .string(script), "args": .array(arguments)])
    }

    /// Makes the page area (the viewport) `width` × `height`: the window is set to that, then grown by what the
    /// browser's own frame takes (in headless Chromium, some height), so screenshots have the size asked for.
    func resize(width: Int, height: Int) async throws {
        try await setWindow(width: width, height: height)
        let inner = try await execute("return [window.innerWidth, window.innerHeight]")
        guard let innerWidth = inner[0]?.number, let innerHeight = inner[1]?.number else {
            throw WebDriverError("the window's inner size: \(inner)")
        }
        let extraWidth = width - Int(innerWidth)
        let extraHeight = height - Int(innerHeight)
        if extraWidth != 0 || extraHeight != 0 {
            try await setWindow(width: width + extraWidth, height: height + extraHeight)
        }
    }

    private func setWindow(width: Int, height: Int) async throws {
        try await driver.command(
            "POST", "/session/\(id)/window/rect", ["width": .number(Double(width)), "height": .number(Double(height))])
    }

    /// A PNG of the viewport.
    func screenshot() async throws -> Data {
        let answer = try await driver.command("GET", "/session/\(id)/screenshot")
        guard let base64 = answer.string, let data = Data(base64Encoded: base64) else {
            throw WebDriverError("the screenshot is not base64")
        }
        return data
    }

    /// Writes a PNG of the viewport to `path`.
    func saveScreenshot(to path: String) async throws {
        try await screenshot().write(to: URL(fileURLWithPath: path))
    }

    /// The browser console's entries since the last call, as "LEVEL message" (chromedriver's log endpoint, with
    /// `goog:loggingPrefs` set by ``WebDriver/withSession(width:height:_:)``).
    func consoleEntries() async throws -> [String] {
        let answer = try await driver.command("POST", "/session/\(id)/se/log", ["type": "browser"])
        return (answer.array ?? []).map { entry in
            "\(entry["level"]?.string ?? "?") \(entry["message"]?.string ?? "\(entry)")"
        }
    }

    /// Polls until `condition` holds (every 100 ms; `failsafe` only keeps a broken page from hanging the test).
    /// `lastSeen` says, on timeout, what the page showed last.
    func waitUntil(
        _ description: String, failsafe: Duration = SanitizedBuild.scaled(.seconds(20)),
        _ condition: () async throws -> Bool, lastSeen: () -> String = { "" }
    ) async throws {
        try await eventually(
            description, failsafe: failsafe,
            {
                if try await condition() { return true }
                try await Task.sleep(for: .milliseconds(100))
                return false
            }, lastSeen: lastSeen)
    }

    /// The text content of the first element that matches, shown or not (a panel off screen on a phone has no
    /// rendered text); "" if none matches.
    func textContent(of selector: String) async throws -> String {
        try await execute("return document.querySelector(arguments[0])?.textContent ?? ''", [.string(selector)])
            .string ?? ""
    }

    /// Waits until the text of `selector` contains every one of `parts`; returns that text. `rendered`: the text
    /// a reader sees (the element must be on screen); otherwise its text content, shown or not.
    @discardableResult
    func waitForText(_ selector: String, containing parts: [String], rendered: Bool = true) async throws -> String {
        var seen = ""
        try await waitUntil(
            "\(selector) to show \(parts)",
            {
                seen = try await rendered ? text(of: selector) : textContent(of: selector)
                return parts.allSatisfy { seen.contains($0) }
            }, lastSeen: { seen })
        return seen
    }

    fileprivate func delete() async throws {
        try await driver.command("DELETE", "/session/\(id)")
    }
}

/// An element of the page, as WebDriver refers to it.
struct BrowserElement: Sendable {
    /// The key of an element reference in W3C WebDriver's JSON.
    static let referenceKey = "element-6066-11e4-a52e-4f735466cecf"

    let session: BrowserSession
    let id: String

    fileprivate init(session: BrowserSession, reference: JSONValue) throws {
        guard let id = reference[Self.referenceKey]?.string else {
            throw WebDriverError("not an element reference: \(reference)")
        }
        self.session = session
        self.id = id
    }

    private var path: String { "/session/\(session.id)/element/\(id)" }

    /// Types `text` into the element as keystrokes (``BrowserSession/enter`` presses Enter).
    func sendKeys(_ text: String) async throws {
        try await session.driver.command("POST", "\(path)/value", ["text": .string(text)])
    }

    func click() async throws {
        try await session.driver.command("POST", "\(path)/click", [:])
    }

    func clear() async throws {
        try await session.driver.command("POST", "\(path)/clear", [:])
    }

    func text() async throws -> String {
        try await session.driver.command("GET", "\(path)/text").string ?? ""
    }

    func isDisplayed() async throws -> Bool {
        try await session.driver.command("GET", "\(path)/displayed").bool ?? false
    }

    /// A DOM property (`value` of an input...).
    func property(_ name: String) async throws -> JSONValue {
        try await session.driver.command("GET", "\(path)/property/\(name)")
    }
}

struct WebDriverError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension ProcessRunner {
    /// The child's exit status once it has exited, or nil while it runs.
    fileprivate var exitStatus: Int32? {
        get async { try? await waitForExit(timeout: .zero) }
    }
}

// MARK: - JSON

/// A JSON value that is `Sendable`: WebDriver's requests and answers are free-form JSON.
enum JSONValue: Sendable, Equatable, Codable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(stringLiteral value: String) { self = .string(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    subscript(index: Int) -> JSONValue? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }
}

// MARK: - HTTP/1.1 on loopback

/// Just enough HTTP/1.1 for chromedriver: one request per connection (`Connection: close`), an answer with a
/// Content-Length (or, failing that, up to the close).
enum LoopbackHTTP {
    struct Response: Sendable {
        let status: Int
        let body: [UInt8]
    }

    static func request(
        method: String, port: Int, path: String, body: [UInt8]?, timeout: Duration
    ) async throws -> Response {
        try await withThrowingTaskGroup(of: Response?.self) { group in
            group.addTask { try await exchange(method: method, port: port, path: path, body: body) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else {
                throw WebDriverError("\(method) \(path): no answer from chromedriver within \(timeout)")
            }
            return response
        }
    }

    private static func exchange(method: String, port: Int, path: String, body: [UInt8]?) async throws -> Response {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
            if let body {
                head += "Content-Type: application/json; charset=utf-8\r\nContent-Length: \(body.count)\r\n"
            } else if method == "POST" {
                head += "Content-Length: 0\r\n"
            }
            head += "\r\n"
            try await outbound.write(ByteBuffer(bytes: Array(head.utf8) + (body ?? [])))
            var received: [UInt8] = []
            for try await chunk in inbound {
                received += chunk.readableBytesView
                if let response = try parse(received, ended: false) { return response }
            }
            guard let response = try parse(received, ended: true) else {
                throw WebDriverError("\(method) \(path): the connection closed mid-answer")
            }
            return response
        }
    }

    /// The response in `bytes` once it is complete, nil while it is not.
    private static func parse(_ bytes: [UInt8], ended: Bool) throws -> Response? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let headEnd = bytes.firstRange(of: separator) else { return nil }
        let head = String(decoding: bytes[..<headEnd.lowerBound], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let statusWords = lines[0].split(separator: " ")
        guard statusWords.count >= 2, let status = Int(statusWords[1]) else {
            throw WebDriverError("not an HTTP status line: \(lines[0])")
        }
        var contentLength: Int?
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            if name == "content-length" { contentLength = Int(value) }
            if name == "transfer-encoding" {
                throw WebDriverError("chromedriver sent Transfer-Encoding: \(value), which this client does not read")
            }
        }
        let body = bytes[headEnd.upperBound...]
        if let contentLength {
            guard body.count >= contentLength else { return nil }
            return Response(status: status, body: Array(body.prefix(contentLength)))
        }
        return ended ? Response(status: status, body: Array(body)) : nil
    }
}
