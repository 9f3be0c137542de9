import Crypto
import Foundation
import SandiCore
import SandiTesting
import Testing

@Suite("Codes")
struct CodeTests {
    @Test("codes have the asked length, digits only, clamped to 6–10")
    func lengths() {
        for length in 6...10 {
            let code = OTPCode.generate(length: length)
            #expect(code.count == length && code.allSatisfy(\.isNumber))
        }
        #expect(OTPCode.generate(length: 4).count == 6, "never fewer than 6 digits")
        #expect(OTPCode.generate(length: 12).count == 10)
    }

    /// Chi-square statistics of digit counts per position over `n` codes.
    static func chiSquares(_ n: Int, _ next: () -> String) -> [Double] {
        var counts = Array(repeating: Array(repeating: 0, count: 10), count: 6)
        for _ in 0..<n {
            for (position, char) in next().utf8.enumerated() { counts[position][Int(char - 48)] += 1 }
        }
        let expected = Double(n) / 10
        return counts.map { $0.reduce(0.0) { $0 + pow(Double($1) - expected, 2) / expected } }
    }

    @Test("the mapping from random numbers to digits is uniform in every position (seeded, chi-square)")
    func uniformMapping() {
        var rng = SeededRandom(seed: 7)
        // 9 degrees of freedom: p = 0.001 at 27.88. Deterministic under the seed, so never flaky.
        for (position, chi) in Self.chiSquares(200_000, { OTPCode.generate(length: 6, using: &rng) }).enumerated() {
            #expect(chi < 27.88, "position \(position): chi-square \(chi)")
        }
    }

    @Test("codes from the system CSPRNG show no bias (chi-square, 200,000 codes)")
    func uniformSystemCodes() {
        // p = 1e-9 at 60.66 for 9 degrees of freedom: a real bias fails, chance practically never does.
        for (position, chi) in Self.chiSquares(200_000, { OTPCode.generate(length: 6) }).enumerated() {
            #expect(chi < 60.66, "position \(position): chi-square \(chi)")
        }
    }

    @Test("values cover the whole range without modulo bias (leading zeros included)")
    func wholeRange() {
        var rng = SeededRandom(seed: 42)
        var low = 0
        var high = 0
        let n = 100_000
        for _ in 0..<n {
            let value = Int(OTPCode.generate(length: 6, using: &rng))!
            if value < 500_000 { low += 1 } else { high += 1 }
        }
        #expect(abs(low - high) < n / 50, "halves differ: \(low) vs \(high)")
        let leadingZero = (0..<20_000).filter { _ in OTPCode.generate(length: 6).hasPrefix("0") }.count
        #expect((1_600...2_400).contains(leadingZero), "about a tenth of codes start with 0, got \(leadingZero)")
    }
}

@Suite("Keyed hashing")
struct HashingTests {
    let hasher = CodeHasher(keyring: Fixtures.keyring)

    @Test("the digest is an HMAC bound to the verification: same code, other verification, no match")
    func boundToVerification() {
        let digest = hasher.digest(code: "123456", verificationID: "ver_a")
        #expect(!digest.mac.contains("123456"))
        #expect(hasher.matches("123456", digest: digest, verificationID: "ver_a"))
        #expect(!hasher.matches("123456", digest: digest, verificationID: "ver_b"))
        #expect(!hasher.matches("123457", digest: digest, verificationID: "ver_a"))
        #expect(hasher.digest(code: "123456", verificationID: "ver_b").mac != digest.mac)
    }

    @Test("bindings (transaction details) are part of the digest")
    func binding() {
        let digest = hasher.digest(code: "123456", verificationID: "ver_a", binding: "IDR 100000 to Budi")
        #expect(hasher.matches("123456", digest: digest, verificationID: "ver_a", binding: "IDR 100000 to Budi"))
        #expect(!hasher.matches("123456", digest: digest, verificationID: "ver_a", binding: "IDR 900000 to Budi"))
        #expect(!hasher.matches("123456", digest: digest, verificationID: "ver_a"))
    }

    @Test("rotation: the new key issues, the old key still verifies and unseals; a removed key matches nothing")
    func rotation() throws {
        let old = Keyring.generateKey()
        let new = Keyring.generateKey()
        let before = CodeHasher(keyring: Keyring(current: old))
        let digest = before.digest(code: "654321", verificationID: "ver_a")
        let sealed = try before.seal(code: "654321", verificationID: "ver_a")
        let after = CodeHasher(keyring: Keyring(current: new, older: [old]))
        #expect(after.digest(code: "654321", verificationID: "ver_b").keyID == new.id)
        #expect(after.matches("654321", digest: digest, verificationID: "ver_a"))
        #expect(after.unseal(sealed, verificationID: "ver_a") == "654321")
        let withoutOld = CodeHasher(keyring: Keyring(current: new))
        #expect(!withoutOld.matches("654321", digest: digest, verificationID: "ver_a"))
        #expect(withoutOld.unseal(sealed, verificationID: "ver_a") == nil)
    }

    @Test("a sealed code opens only for its verification and is not readable")
    func sealing() throws {
        let sealed = try hasher.seal(code: "112233", verificationID: "ver_a")
        #expect(!sealed.box.contains("112233"))
        #expect(hasher.unseal(sealed, verificationID: "ver_a") == "112233")
        #expect(hasher.unseal(sealed, verificationID: "ver_b") == nil)
        #expect(hasher.unseal(SealedCode(keyID: sealed.keyID, box: "AAAA" + sealed.box.dropFirst(4)), verificationID: "ver_a") == nil)
    }

    @Test("digests and tags are HMAC-SHA256 under the HKDF subkey of the documented message (known vectors, so stored digests keep matching)")
    func knownVectors() {
        // Expected values computed outside Swift (Python's hmac and hashlib): HKDF-SHA256 of the
        // key with salt "sandi" and info "code-mac-v1", then HMAC-SHA256 of the message.
        let key = Keyring.Key(id: "kfixed", secret: SymmetricKey(data: (0..<32).map { UInt8($0) }))
        let hasher = CodeHasher(keyring: Keyring(current: key))
        let plain = hasher.digest(code: "123456", verificationID: "ver_a")
        #expect(plain == CodeDigest(keyID: "kfixed", mac: "/xJMTQBGz6v/U0l3w9HuSlKQBXApaalvdaiB6CdD/EI="))
        let bound = hasher.digest(code: "123456", verificationID: "ver_a", binding: "IDR 100000 to Budi")
        #expect(bound.mac == "yZ0fnfasNu/DFnJNbXjE2kFdYKG4zEqBZfoRbhDsZh0=")
        #expect(hasher.numberHash("+6281234567890") == "kfixed.b5pX12/cBOkvmuQ+ON0gxUVg2CVZaMVn6gf7Vxf2i/A=")
        #expect(hasher.isValidTag("kfixed.b5pX12/cBOkvmuQ+ON0gxUVg2CVZaMVn6gf7Vxf2i/A=", for: Data("+6281234567890".utf8), purpose: "number"))
        #expect(!hasher.isValidTag("kfixed.b5pX12/cBOkvmuQ+ON0gxUVg2CVZaMVn6gf7Vxf2i/A=", for: Data("+6281234567891".utf8), purpose: "number"))
        #expect(!hasher.isValidTag("kother.b5pX12/cBOkvmuQ+ON0gxUVg2CVZaMVn6gf7Vxf2i/A=", for: Data("+6281234567890".utf8), purpose: "number"))
        // The keyed state is copied per use: one digest never leaks into the next.
        #expect(hasher.digest(code: "123456", verificationID: "ver_a") == plain)
        #expect(hasher.matches("123456", digest: plain, verificationID: "ver_a"))
        #expect(!hasher.matches("123456", digest: CodeDigest(keyID: "kfixed", mac: "/xJMTQBGz6v/U0l3w9HuSlKQBXApaalvdaiB6CdD"), verificationID: "ver_a"))
    }

    @Test("secret hashes are SHA-256 in lowercase hex (known vector)")
    func secretHash() {
        #expect(SecretHash.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SecretHash.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("identifiers: well formed, unguessable, and in creation order (so indexes insert them side by side)")
    func identifiersSortByTime() {
        let before = Identifier.timePrefix(Date())
        let ids = (0..<1000).map { _ in Identifier.make(.verification) }
        let after = Identifier.timePrefix(Date())
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { String($0.dropFirst(4).prefix(10)) >= before && String($0.dropFirst(4).prefix(10)) <= after })
        // 128 random bits: 25 characters of 5 bits, then one of 3 (so the last is one of 8).
        let alphabet = Set("0123456789abcdefghjkmnpqrstvwxyz")
        #expect(Set(ids.flatMap { $0.dropFirst(14).prefix(25) }) == alphabet)
        #expect(Set(ids.compactMap(\.last)) == Set("048cgmrw"))
        for (bytes, length) in [(1, 2), (3, 5), (5, 8), (16, 26), (32, 52)] {
            let text = Identifier.randomBase32(bytes: bytes)
            #expect(text.count == length && text.allSatisfy(alphabet.contains), "\(bytes) bytes")
        }
        #expect(Identifier.timePrefix(Date(timeIntervalSince1970: 0)) == "0000000000")
        #expect(Identifier.timePrefix(Date(timeIntervalSince1970: 1.023)) == "00000000zz")
        for id in ids { #expect(Identifier.isWellFormed(id, as: .verification) && id.count == 4 + 10 + 26) }
        #expect(Identifier.timePrefix(Date(timeIntervalSince1970: 1)) < Identifier.timePrefix(Date(timeIntervalSince1970: 2)))
        #expect(Identifier.timePrefix(Date(timeIntervalSince1970: 1_800_000_000)) < Identifier.timePrefix(Date(timeIntervalSince1970: 1_800_000_000.001)))
        #expect(ids.first.map { $0.dropFirst(4).prefix(10) } == ids.last.map { $0.dropFirst(4).prefix(10) } || ids.first! < ids.last!)
    }

    @Test("identifiers made at once from many tasks, across many refills of the random pool: all distinct, every random bit fair")
    func identifiersFromThePool() async {
        // 8 tasks × 2,000: 16,000 identifiers, 62 refills of 4 KiB.
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 { group.addTask { (0..<2000).map { _ in Identifier.make(.event) } } }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(Set(ids).count == ids.count)
        // Each of the 125 bits in the first 25 random characters is set in half the identifiers
        // (±5 %: a pool handing bytes out twice, or zeros, fails by far).
        let value = Dictionary(uniqueKeysWithValues: "0123456789abcdefghjkmnpqrstvwxyz".enumerated().map { ($1, $0) })
        var ones = [Int](repeating: 0, count: 125)
        for id in ids {
            for (position, character) in id.dropFirst(14).prefix(25).enumerated() {
                let v = value[character] ?? 0
                for bit in 0..<5 where v & (1 << bit) != 0 { ones[position * 5 + bit] += 1 }
            }
        }
        let half = Double(ids.count) / 2
        #expect(ones.allSatisfy { abs(Double($0) - half) < half * 0.05 }, "\(ones.min() ?? 0)…\(ones.max() ?? 0) of \(ids.count)")
    }
}

