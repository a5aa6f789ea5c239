import ArgumentParser
import MeridianConfig
import MeridianControl

/// `dnsctl explain NAME CLIENT[/PREFIX] [TYPE]`: why a client gets the answer it gets.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the routing decision for a client: location, candidate edges, the answer.",
        discussion: """
        CLIENT is the address a query comes from; CLIENT/PREFIX is the subnet an EDNS Client \
        Subnet option carries (as with dig +subnet=CLIENT/PREFIX). The report shows the \
        network that placed the client and where it came from (GeoIP database, override, or \
        the pool's fallback order), each candidate edge in order with its distance, health \
        and admin state and why it was skipped, and the answer with its TTL and ECS scope, \
        exactly as the server would send it now.
        Exit codes: 0 success, 1 not a dynamic name, 2 no server answering.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "A name served by a DYNA or DYNC record, e.g. api.inference.example.")
    var name: String

    @Argument(help: ArgumentHelp("The client address, or an ECS subnet ADDRESS/PREFIX.", valueName: "client[/prefix]"))
    var client: String

    @Argument(help: "Query type (default A, or AAAA for an IPv6 client).")
    var type: String?

    func validate() throws {
        _ = try parsedClient()
    }

    /// The address and optional prefix length of `client`.
    func parsedClient() throws -> (address: String, prefix: Int?) {
        let parts = client.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let address = String(parts[0])
        guard let parsed = IPAddress(address) else {
            throw ValidationError("\(address) is not an IPv4 or IPv6 address")
        }
        guard parts.count == 2 else { return (address, nil) }
        let limit = parsed.isIPv4 ? 32 : 128
        guard let prefix = Int(parts[1]), (0...limit).contains(prefix) else {
            throw ValidationError("the prefix length after / must be a number from 0 to \(limit)")
        }
        return (address, prefix)
    }

    func run() throws {
        let (address, prefix) = try parsedClient()
        let absolute = name.hasSuffix(".") ? name : name + "."
        try ControlConnection(global).request(.explain(name: absolute, client: address, prefix: prefix, type: type?.uppercased()),
                                              expecting: ExplainReply.self) { print(Self.render($0)) }
    }

    static func render(_ reply: ExplainReply) -> String {
        var lines = [
            "\(reply.name) \(reply.type) for \(reply.client) (\(placement(reply)))",
            label("location") + location(reply.location) + "   source \(reply.source.rawValue)",
            label("pool") + "\(reply.pool) (\(reply.policy), answers \(reply.poolAnswers))",
        ]
        lines += candidateLines(reply.candidates)
        lines += answerLines(reply)
        for note in reply.notes { lines.append(label("note") + note) }
        return lines.joined(separator: "\n")
    }

    /// The label column of the report.
    private static func label(_ text: String) -> String { text.padding(to: 10) }

    /// Who asked, and what placed them.
    private static func placement(_ reply: ExplainReply) -> String {
        var placement: String
        switch reply.clientSource {
        case .ecs:
            let subnet = IPAddress(reply.client).map { IPNetwork(containing: $0, prefixLength: reply.prefix).description }
                ?? "\(reply.client)/\(reply.prefix)"
            placement = "ECS \(subnet)"
        case .source:
            placement = "source address"
        }
        switch reply.source {
        case .database: placement += " → database network \(reply.network)"
        case .override: placement += " → override \(reply.network)"
        case .fallback: placement += " → not located (network \(reply.network)): fallback order"
        }
        return placement
    }

    private static func location(_ place: ExplainReply.Location?) -> String {
        guard let place else { return "unknown" }
        var parts: [String] = []
        if let latitude = place.latitude, let longitude = place.longitude {
            parts.append("\(ReadableText.decimal(latitude, places: 2)), \(ReadableText.decimal(longitude, places: 2))")
        }
        var region: [String] = []
        if let country = place.country { region.append(place.subdivision.map { "\(country)-\($0)" } ?? country) }
        if let continent = place.continent { region.append(continent) }
        if !region.isEmpty { parts.append(region.joined(separator: " ")) }
        return parts.isEmpty ? "unknown" : parts.joined(separator: "  ")
    }

    /// The candidates in order, with why each was chosen or skipped.
    private static func candidateLines(_ candidates: [ExplainReply.Candidate]) -> [String] {
        guard !candidates.isEmpty else { return [] }
        var table = TextTable(header: ["", "", "", "", ""], rightAligned: [0, 2])
        for (index, candidate) in candidates.enumerated() {
            var state = candidate.state.rawValue
            if candidate.admin == .drained { state += ", drained" }
            let distance = candidate.km.map { "\(ReadableText.grouped(Int($0.rounded()))) km" } ?? "-"
            table.rows.append(["\(index + 1).", candidate.edge, distance, state, verdict(candidate)])
        }
        // The header row of blanks is dropped; the table only aligns the columns.
        return table.render(indent: "  ").split(separator: "\n", omittingEmptySubsequences: false).dropFirst().map(String.init)
    }

    private static func verdict(_ candidate: ExplainReply.Candidate) -> String {
        let load = candidate.shedFraction.map { fraction in
            " (sheds \(ReadableText.decimal(fraction, places: 2)); this network at \(ReadableText.decimal(candidate.shedPosition ?? 0, places: 3)))"
        } ?? ""
        if candidate.chosen { return "chosen" + load }
        if candidate.reason == "shedding load" { return "shedding load" + load }
        guard let reason = candidate.reason else { return "" }
        var detail: [String] = []
        if let result = candidate.result, candidate.state == .down || reason.hasPrefix("down") { detail.append(result) }
        if let since = candidate.since, candidate.state == .down || candidate.admin == .drained {
            detail.append("since \(Format.time(since))")
        }
        return "skipped: \(reason)" + (detail.isEmpty ? "" : " (\(detail.joined(separator: " ")))")
    }

    private static func answerLines(_ reply: ExplainReply) -> [String] {
        let trailer = "(\(reply.rcode == "NOERROR" ? "" : reply.rcode + ", ")TTL \(reply.ttl), ECS scope /\(reply.scope))"
        switch reply.answer.count {
        case 0:
            return [label("answer") + "none   " + trailer]
        case 1:
            return [label("answer") + reply.answer[0] + "   " + trailer]
        default:
            let records = reply.answer.enumerated().map { index, record in (index == 0 ? label("answer") : label("")) + record }
            return records + [label("") + trailer]
        }
    }
}

extension String {
    /// Pads with spaces to `width` characters (at least one space after the text).
    func padding(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
