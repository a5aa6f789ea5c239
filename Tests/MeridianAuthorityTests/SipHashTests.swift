import MeridianAuthority
import Testing

/// Octets from hexadecimal text such as `2464c4abcf10c957`.
func hexOctets(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

func hexText(_ octets: some Sequence<UInt8>) -> String {
    octets.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

/// SipHash-2-4 against the reference vectors of its authors (the `vectors_sip64` table of
/// github.com/veorq/SipHash, the paper's Appendix A extended): key 00 01 … 0f, message
/// the first n octets of 00 01 02 …, for n from 0 to 63; each tag written as the reference
/// implementation outputs it, least significant octet first.
@Suite struct SipHashTests {
    static let referenceTags = [
        "310e0edd47db6f72", "fd67dc93c539f874", "5a4fa9d909806c0d", "2d7efbd796666785",
        "b7877127e09427cf", "8da699cd64557618", "cee3fe586e46c9cb", "37d1018bf50002ab",
        "6224939a79f5f593", "b0e4a90bdf82009e", "f3b9dd94c5bb5d7a", "a7ad6b22462fb3f4",
        "fbe50e86bc8f1e75", "903d84c02756ea14", "eef27a8e90ca23f7", "e545be4961ca29a1",
        "db9bc2577fcc2a3f", "9447be2cf5e99a69", "9cd38d96f0b3c14b", "bd6179a71dc96dbb",
        "98eea21af25cd6be", "c7673b2eb0cbf2d0", "883ea3e395675393", "c8ce5ccd8c030ca8",
        "94af49f6c650adb8", "eab8858ade92e1bc", "f315bb5bb835d817", "adcf6b0763612e2f",
        "a5c91da7acaa4dde", "716595876650a2a6", "28ef495c53a387ad", "42c341d8fa92d832",
        "ce7cf2722f512771", "e37859f94623f3a7", "381205bb1ab0e012", "ae97a10fd434e015",
        "b4a31508beff4d31", "81396229f0907902", "4d0cf49ee5d4dcca", "5c73336a76d8bf9a",
        "d0a704536ba93e0e", "925958fcd6420cad", "a915c29bc8067318", "952b79f3bc0aa6d4",
        "f21df2e41d4535f9", "87577519048f53a9", "10a56cf5dfcd9adb", "eb75095ccd986cd0",
        "51a9cb9ecba312e6", "96afadfc2ce666c7", "72fe52975a4364ee", "5a1645b276d592a1",
        "b274cb8ebf87870a", "6f9bb4203de7b381", "eaecb2a30b22a87f", "9924a43cc1315724",
        "bd838d3aafbf8db7", "0b1a2a3265d51aea", "135079a3231ce660", "932b2846e4d70666",
        "e1915f5cb1eca46c", "f325965ca16d629f", "575ff28e60381be5", "724506eb4c328a95",
    ]
    static let key = SipHashKey(bytes: Array(0...15))

    func tag(_ message: [UInt8], key: SipHashKey = key) -> UInt64 {
        message.withUnsafeBytes { SipHash24.hash($0, key: key) }
    }

    @Test(arguments: 0..<64)
    func referenceVector(length: Int) {
        let tag = tag((0..<length).map { UInt8($0) })
        #expect(withUnsafeBytes(of: tag.littleEndian) { hexText($0) } == Self.referenceTags[length])
    }

    /// The worked example of the paper (Aumasson and Bernstein, Appendix A): 15 octets.
    @Test func papersWorkedExample() {
        #expect(SipHashTests.key == SipHashKey(k0: 0x0706_0504_0302_0100, k1: 0x0f0e_0d0c_0b0a_0908))
        #expect(tag((0..<15).map { UInt8($0) }) == 0xa129_ca61_49be_45e5)
    }

    /// Messages that do not start on a word boundary hash the same (no alignment assumption).
    @Test func unalignedInput() {
        let message = (0..<63).map { UInt8($0) }
        let shifted = [0xAA] + message
        let tagOfShifted = shifted.withUnsafeBytes { SipHash24.hash(UnsafeRawBufferPointer(rebasing: $0[1...]), key: Self.key) }
        #expect(tagOfShifted == tag(message))
    }
}
