import NIOCore
import Testing

@testable import SecureChat

/// Full TLS handshakes share one budget for the whole server; resumed ones are not charged (issue 24, point 4).
@Suite("TLS handshake budget: full handshakes are rationed, resumptions are not")
struct TLSHandshakeBudgetTests {
    /// A budget of one handshake, refilled once an hour: the second full handshake finds it spent.
    private func serverContext(_ pki: TLSTestPKI, budget: TLSHandshakeBudget) throws -> TLSContext {
        try TLSContext.server(
            certificateChainPath: pki.certificates.certificatePath,
            privateKeyPath: pki.certificates.privateKeyPath,
            handshakeBudget: budget
        )
    }

    @Test(arguments: [TLSProtocolVersion.tlsv1_2, .tlsv1_3])
    func aSpentBudgetRefusesFullHandshakesButNotResumedOnes(version: TLSProtocolVersion) throws {
        let pki = try TLSTestPKI()
        let budget = TLSHandshakeBudget(ratePerSecond: 1.0 / 3600, burst: 1)
        let serverContext = try self.serverContext(pki, budget: budget)
        let clientContext = try pki.clientContext(maximumVersion: version)

        let (first, firstServer) = try connectedPair(server: serverContext, client: clientContext)
        #expect(firstServer.recorder.handshakes.count == 1)
        let session = try #require(first.handler.resumableSession)

        let (_, refused) = try connectedPair(server: serverContext, client: clientContext)
        #expect(refused.recorder.handshakes.isEmpty, "a second full handshake is over budget")
        let error = try #require(refused.recorder.tlsErrors.first)
        #expect(refused.recorder.tlsErrors.count == 1, "\(refused.recorder.errors)")
        #expect(error.description.contains("cert cb error"), "the reason metrics count it under: \(error)")
        #expect(budget.refusals == 1)

        let (_, resumed) = try connectedPair(server: serverContext, client: clientContext, session: session)
        #expect(resumed.recorder.handshakes.first?.sessionReused == true, "a resumption costs no budget")
        #expect(budget.refusals == 1)
    }

    @Test func aBudgetOfZeroRationsNothing() throws {
        let pki = try TLSTestPKI()
        let budget = TLSHandshakeBudget(ratePerSecond: 0, burst: 1)
        let serverContext = try self.serverContext(pki, budget: budget)
        for _ in 0..<3 {
            let (_, server) = try connectedPair(server: serverContext, client: try pki.clientContext())
            #expect(server.recorder.handshakes.count == 1)
        }
        #expect(budget.refusals == 0)
    }
}
