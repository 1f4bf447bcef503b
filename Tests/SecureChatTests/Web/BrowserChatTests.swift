import Foundation
import SecureChat
import Testing

/// The web client (`WebPage`, served by the server at `/` on its TLS port) in a real browser, headless Chromium
/// driven through chromedriver, against a real server, with line-protocol users in the same room.
///
/// Without Chromium and chromedriver the tests are skipped, except in CI (`CI=true`), where they must run: there
/// their absence fails with the packages to install.
@Suite("Browser: the web client in headless Chromium", .serialized, .timeLimit(.minutes(3)))
struct BrowserChatTests {
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let runs = WebDriver.isAvailable || isCI
    /// Where the screenshot test writes its PNGs (the lead commits them under docs/screenshots/); unset, it is
    /// skipped.
    static let screenshotsDirectory = ProcessInfo.processInfo.environment["SECURECHAT_SCREENSHOTS"]
        .flatMap { $0.isEmpty ? nil : $0 }

    @Test(
        "a browser user and a line user chat both ways: history, members, DMs, commands, no address, no CSP error",
        .enabled(if: runs, "needs chromium and chromedriver (Debian: chromium, chromium-driver)")
    )
    func browserAndLineUserChat() async throws {
        try Self.requireBrowser()
        let output = try Self.outputDirectory()
        try await withTestServer { server in
            let bob = try await server.login("bob")
            // Said before the browser logs in: it must reach the browser as history. bob's barrier answers once
            // the hub has handled (and recorded) the line.
            bob.send("hello from the line, before the browser came")
            _ = try await bob.sync()
            try await withWebDriver { driver in
                try await driver.withSession(width: 1280, height: 800) { browser in
                    try await browser.navigate(to: "https://127.0.0.1:\(server.tlsPort)/")
                    try await browser.element("#login-name").sendKeys("alice" + BrowserSession.enter)
                    try await browser.waitForText("#room-name", containing: ["#lobby"])
                    try await bob.readUntil("alice's join") { $0 == "* alice joined #lobby" }
                    try await browser.waitForText(
                        "#messages", containing: ["hello from the line, before the browser came"])
                    try await browser.waitForText("#members", containing: ["alice", "bob"])

                    // Browser to line, line to browser. The browser shows its own line itself (no echo).
                    let composer = try await browser.element("#composer-input")
                    try await composer.sendKeys("hi bob, from the web" + BrowserSession.enter)
                    try await bob.readUntil("alice's chat") { $0 == "alice: hi bob, from the web" }
                    bob.send("hi alice, from the line")
                    try await browser.waitForText(
                        "#messages", containing: ["hi bob, from the web", "hi alice, from the line"])

                    // DMs both ways: /msg typed in the composer, /msg from the line; the page shows them as DMs.
                    try await composer.sendKeys("/msg bob psst, web to line" + BrowserSession.enter)
                    try await bob.readUntil("alice's DM") { $0 == "[dm] alice: psst, web to line" }
                    bob.send("/msg alice psst, line to web")
                    try await browser.waitForText("#messages", containing: ["psst, line to web"])
                    var dmTexts: [String] = []
                    for dm in try await browser.elements(".msg-dm") { dmTexts.append(try await dm.text()) }
                    #expect(dmTexts.count == 2, "one DM sent, one received: \(dmTexts)")
                    #expect(dmTexts.first?.contains("psst, web to line") == true)
                    let received = dmTexts.last ?? ""
                    #expect(received.contains("bob") && received.contains("psst, line to web"))

                    // "//" is chat that starts with "/"; a name clicked in the member list starts a DM.
                    try await composer.sendKeys("//shrug, from the web" + BrowserSession.enter)
                    try await bob.readUntil("alice's slash line") { $0 == "alice: /shrug, from the web" }
                    try await browser.element("#members button[data-name='bob']").click()
                    #expect(try await composer.property("value") == "/msg bob ")
                    try await composer.clear()

                    // /whois answers, then /ping's pong: the server answers in order, so once the pong shows, the
                    // whois answer is on the page, and no address may be.
                    try await composer.sendKeys("/whois bob" + BrowserSession.enter)
                    try await composer.sendKeys("/ping" + BrowserSession.enter)
                    let page = try await browser.waitForText("#messages", containing: ["pong"])
                    #expect(!page.contains("127.0.0.1"), "the page shows an address: \(page)")
                    let body = try await browser.text(of: "body")
                    #expect(!body.contains("127.0.0.1"))

                    // Nothing refused by the Content-Security-Policy, no script error, no failed load.
                    let console = try await browser.consoleEntries()
                    #expect(console.filter { $0.hasPrefix("SEVERE") } == [], "browser console: \(console)")

                    let path = output.appendingPathComponent("browser-chat.png").path
                    try await browser.saveScreenshot(to: path)
                    print("BrowserChatTests: screenshot at \(path)")
                }
            }
        }
    }

    @Test(
        "a registered name: a password field, a wrong password refused, the right one; /quit, then Reconnect",
        .enabled(if: runs, "needs chromium and chromedriver (Debian: chromium, chromium-driver)")
    )
    func registeredNameAndReconnect() async throws {
        try Self.requireBrowser()
        let carol = (name: "carol", password: "correct horse battery staple")
        try await Accounts.withServer([carol]) { server, _ in
            try await withWebDriver { driver in
                try await driver.withSession(width: 1280, height: 800) { browser in
                    try await browser.navigate(to: "https://127.0.0.1:\(server.tlsPort)/")
                    let name = try await browser.element("#login-name")
                    let password = try await browser.element("#login-password")
                    #expect(try await !password.isDisplayed(), "no password field until the server asks")
                    try await name.sendKeys("carol" + BrowserSession.enter)
                    try await browser.waitUntil("the password field") { try await password.isDisplayed() }

                    try await password.sendKeys("not the password" + BrowserSession.enter)
                    try await browser.waitForText("#login-error", containing: ["Wrong password"])
                    // The server waits for a name again: the form asks again for the same name's password.
                    try await browser.element("#login-submit").click()
                    try await browser.waitUntil("the password field again") { try await password.isDisplayed() }
                    try await password.sendKeys(carol.password + BrowserSession.enter)
                    try await browser.waitForText("#room-name", containing: ["#lobby"])
                    try await browser.waitForText("#messages", containing: ["Welcome back, carol!"])

                    // /quit: the server closes; the page says so and offers to reconnect, without doing it.
                    let composer = try await browser.element("#composer-input")
                    try await composer.sendKeys("/quit" + BrowserSession.enter)
                    try await browser.waitForText("#status", containing: ["Disconnected"])
                    let reconnect = try await browser.element("#reconnect")
                    #expect(try await reconnect.isDisplayed())
                    #expect(try await composer.property("disabled") == true)
                    try await reconnect.click()
                    try await browser.waitUntil("the password field after reconnecting") {
                        try await password.isDisplayed()
                    }
                    #expect(try await name.property("value") == "carol")
                    try await password.sendKeys(carol.password + BrowserSession.enter)
                    try await browser.waitForText("#status", containing: ["Connected"])
                    try await browser.waitForText("#members", containing: ["carol"])
                    let console = try await browser.consoleEntries()
                    #expect(console.filter { $0.hasPrefix("SEVERE") } == [], "browser console: \(console)")
                }
                // Another name typed at the password prompt: the password field goes, and the new name logs in
                // on a new connection. The old one would take it as a wrong password: a line at the prompt is a
                // password unless it is shorter than the shortest (10), and this name is not.
                try await driver.withSession(width: 390, height: 844) { browser in
                    try await browser.navigate(to: "https://127.0.0.1:\(server.tlsPort)/")
                    let name = try await browser.element("#login-name")
                    let password = try await browser.element("#login-password")
                    try await name.sendKeys("carol" + BrowserSession.enter)
                    try await browser.waitUntil("the password field") { try await password.isDisplayed() }
                    try await name.clear()
                    try await name.sendKeys("dave_the_second")
                    #expect(try await !password.isDisplayed())
                    try await name.sendKeys(BrowserSession.enter)
                    try await browser.waitForText("#room-name", containing: ["#lobby"])
                    try await browser.waitForText("#messages", containing: ["Welcome, dave_the_second!"])
                }
            }
        }
    }

    @Test(
        "screenshots of a lively room, phone and desktop, into $SECURECHAT_SCREENSHOTS",
        .enabled(if: screenshotsDirectory != nil, "set SECURECHAT_SCREENSHOTS to a directory to take them"),
        .enabled(if: runs, "needs chromium and chromedriver (Debian: chromium, chromium-driver)")
    )
    func screenshots() async throws {
        try Self.requireBrowser()
        let directory = URL(fileURLWithPath: try #require(Self.screenshotsDirectory))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func png(_ name: String) -> String { directory.appendingPathComponent(name).path }
        try await withTestServer { server in
            // bob logs in first, so he is the operator; carol and dave come over TLS, bob and erin over plaintext
            // (the member list marks them); erin is in another room, for the room list.
            let bob = try await server.login("bob")
            let carol = try await TestClient.loggedIn("carol", port: server.tlsPort, tls: .plain)
            server.track(carol)
            let erin = try await server.login("erin")
            erin.send("/join #dev")
            try await erin.readUntil("erin in #dev") { $0.contains("#dev") }
            bob.send("morning! did the release go out?")
            carol.send("yes, 9:40. the web client is live on the TLS port")
            bob.send("nice. no build step, no CDN, strict CSP")
            _ = try await bob.sync()
            _ = try await carol.sync()
            try await withWebDriver { driver in
                try await driver.withSession(width: 390, height: 844) { browser in
                    try await browser.navigate(to: "https://127.0.0.1:\(server.tlsPort)/")
                    try await browser.element("#login-name").sendKeys("alice")
                    try await browser.saveScreenshot(to: png("phone-login.png"))
                    try await browser.element("#login-submit").click()
                    try await browser.waitForText("#members", containing: ["alice", "bob", "carol"], rendered: false)
                    try await browser.waitForText("#rooms", containing: ["#dev", "#lobby"], rendered: false)
                    try await bob.readUntil("alice's join") { $0 == "* alice joined #lobby" }
                    bob.send("welcome, alice")
                    let composer = try await browser.element("#composer-input")
                    try await composer.sendKeys("hi all, writing from my phone" + BrowserSession.enter)
                    try await carol.readUntil("alice's line") { $0.hasSuffix("writing from my phone") }
                    carol.send("/msg alice can you review my branch after lunch?")
                    try await browser.waitForText("#messages", containing: ["review my branch"])
                    try await composer.sendKeys("/msg carol sure, send me the link" + BrowserSession.enter)
                    try await carol.readUntil("alice's DM") { $0.hasPrefix("[dm] alice:") }
                    let dave = try await TestClient.loggedIn("dave", port: server.tlsPort, tls: .plain)
                    server.track(dave)
                    dave.send("hello! what did I miss?")
                    try await browser.waitForText("#messages", containing: ["what did I miss?"])
                    try await browser.waitForText("#members", containing: ["dave"], rendered: false)
                    try await browser.waitForText("#rooms", containing: ["#lobby4"], rendered: false)
                    try await browser.saveScreenshot(to: png("phone-room.png"))
                    try await browser.element("#panel-toggle").click()
                    // The panel slides in (0.2 s): wait until it has arrived before the picture.
                    try await browser.waitUntil("the panel to open") {
                        try await browser.execute(
                            "const r = document.getElementById('panel').getBoundingClientRect();"
                                + "return r.right <= window.innerWidth + 0.5;"
                        ).bool == true
                    }
                    try await Task.sleep(for: .milliseconds(300))
                    try await browser.saveScreenshot(to: png("phone-members.png"))
                    try await browser.element("#panel-close").click()
                    try await browser.resize(width: 1280, height: 800)
                    try await browser.saveScreenshot(to: png("desktop-room.png"))
                }
            }
        }
        print("BrowserChatTests: screenshots in \(directory.path)")
    }

    /// In CI the browser tests must run: a missing browser is a failure that says what to install.
    static func requireBrowser() throws {
        guard WebDriver.isAvailable else {
            throw WebDriverError(
                "CI=true and \(WebDriver.chromiumPath) or \(WebDriver.chromedriverPath) is missing: "
                    + "install Debian's chromium and chromium-driver packages")
        }
    }

    /// `$SECURECHAT_TEST_OUTPUT`, or `securechat-browser-test` in the temporary directory; made if missing.
    static func outputDirectory() throws -> URL {
        let environment = ProcessInfo.processInfo.environment["SECURECHAT_TEST_OUTPUT"] ?? ""
        let directory =
            environment.isEmpty
            ? FileManager.default.temporaryDirectory.appendingPathComponent("securechat-browser-test")
            : URL(fileURLWithPath: environment)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}
