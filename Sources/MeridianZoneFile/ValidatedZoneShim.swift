import MeridianWire

// TEMPORARY: replaced by the validator's own ValidatedZone on merge.
public struct ValidatedZone: Sendable {
    public let origin: DNSName
    public let file: String
    public let records: [ZoneRecord]
    public let cuts: [DNSName]
}

public struct ZoneFileErrors: Error, Sendable {
    public var errors: [ZoneFileError]
    public init(_ errors: [ZoneFileError]) { self.errors = errors }
}

extension ZoneValidator {
    public static func validate(_ records: [ZoneRecord], origin: DNSName, file: String) throws(ZoneFileErrors) -> ValidatedZone {
        let errors = check(records: records, origin: origin, file: file)
        guard errors.isEmpty else { throw ZoneFileErrors(errors) }
        var seen = Set<DNSName>()
        var cuts: [DNSName] = []
        let apex = origin.lowercased
        for record in records where record.type == .ns {
            let owner = record.owner.lowercased
            if owner != apex, seen.insert(owner).inserted { cuts.append(owner) }
        }
        return ValidatedZone(origin: origin, file: file, records: records, cuts: cuts)
    }
}
