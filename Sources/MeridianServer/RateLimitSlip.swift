import MeridianAuthority
import MeridianWire

/// The answer a limited response "slips" out as: the header and question of the response,
/// TC=1, no records, and the OPT record without options when there was one. It is hardly
/// larger than the query, so it amplifies nothing, while a real client behind the spoofed
/// address retries over TCP, which is never limited (BIND's and NSD's slip).
enum RateLimitSlip {
    /// Rewrites `response` in place and returns what was sent.
    @inline(__always)
    static func truncate(_ outcome: Outcome, response: UnsafeMutableRawBufferPointer) -> Outcome {
        var end = Header.size
        if response[4] == 0 && response[5] == 1 {
            // The responder writes the question uncompressed: labels up to the root, type, class.
            while end < outcome.length && response[end] != 0 { end += 1 + Int(response[end]) }
            end += 1 + 4
        }
        var slipped = outcome
        slipped.truncated = true
        slipped.answerCount = 0
        slipped.optOffset = -1
        let opt = Int(outcome.optOffset)
        let optLength = OPTFields.recordLengthWithoutOptions
        if opt >= end && opt + optLength <= outcome.length {
            UnsafeMutableRawBufferPointer(rebasing: response[end..<(end + optLength)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: response[opt..<(opt + optLength)]))
            // RDLENGTH, the record's last field: no options.
            response[end + optLength - 2] = 0
            response[end + optLength - 1] = 0
            slipped.optOffset = Int32(end)
            end += optLength
        }
        response[2] |= UInt8(truncatingIfNeeded: Header.Flags.tc.rawValue >> 8)
        for offset in 6..<10 { response[offset] = 0 }
        response[10] = 0
        response[11] = slipped.optOffset >= 0 ? 1 : 0
        slipped.length = end
        return slipped
    }
}
