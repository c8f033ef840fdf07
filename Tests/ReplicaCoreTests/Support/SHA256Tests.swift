import Testing

@testable import ReplicaCore

@Suite struct SHA256Tests {
    @Test func test_knownVectors_matchFIPS180() {
        #expect(
            SHA256.hex(SHA256.hash(Array("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let two = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(SHA256.hash(two)) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func test_hasherFedInPiecesOfEverySize_equalsOneShot() {
        let input = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let expected = SHA256.hash(input)
        for piece in [1, 3, 63, 64, 65, 127, 500] {
            var hasher = SHA256.Hasher()
            var offset = 0
            while offset < input.count {
                let end = min(offset + piece, input.count)
                hasher.update(Array(input[offset..<end]))
                offset = end
            }
            #expect(hasher.finalize() == expected, "pieces of \(piece) bytes")
        }
    }
}
