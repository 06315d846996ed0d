import Store
import Testing

/// Identifiers and secrets: the requested length, only the URL-safe
/// alphabet, every character about as likely as any other, no repeats.
@Suite struct RandomIDTests {
    @Test func identifiersHaveTheirLengthAndAlphabetAndSpreadEvenly() {
        let alphabet = Set("abcdefghijklmnopqrstuvwxyz0123456789")
        for length in [0, 1, 7, 8, 9, 16, 20, 43] {
            let id = RandomID.string(length: length)
            #expect(id.count == length)
            #expect(id.allSatisfy(alphabet.contains), "\(id)")
        }
        var counts: [Character: Int] = [:]
        for _ in 0..<20_000 { for c in RandomID.string(length: 18) { counts[c, default: 0] += 1 } }
        // 360,000 draws: 10,000 expected per character (σ ≈ 99); a biased
        // mapping (byte % 36 without rejection) would give four of them 11,250.
        #expect(counts.count == 36)
        #expect(counts.values.allSatisfy { (9_500...10_500).contains($0) }, "\(counts.sorted { $0.key < $1.key })")
        let many = (0..<10_000).map { _ in RandomID.string(length: 16) }
        #expect(Set(many).count == many.count)
    }
}
