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
        var lines: [String] = []
        let label = { (text: String) in text.padding(to: 10) }

        // Who asked, and what placed them.
        var clientPart: String
        switch reply.clientSource {
        case .ecs:
            let subnet = IPAddress(reply.client).map { IPNetwork(containing: $0, prefixLength: reply.prefix).description }
                ?? "\(reply.client)/\(reply.prefix)"
            clientPart = "ECS \(subnet)"
        case .source:
            clientPart = "source address"
        }
        switch reply.source {
        case .database: clientPart += " → database network \(reply.network)"
        case .override: clientPart += " → override \(reply.network)"
        case .fallback: clientPart += " → not located (network \(reply.network)): fallback order"
        }
        lines.append("\(reply.name) \(reply.type) for \(reply.client) (\(clientPart))")

        var location = "unknown"
        if let place = reply.location {
            var parts: [String] = []
            if let latitude = place.latitude, let longitude = place.longitude {
                parts.append("\(ReadableText.decimal(latitude, places: 2)), \(ReadableText.decimal(longitude, places: 2))")
            }
            var region: [String] = []
            if let country = place.country { region.append(place.subdivision.map { "\(country)-\($0)" } ?? country) }
            if let continent = place.continent { region.append(continent) }
            if !region.isEmpty { parts.append(region.joined(separator: " ")) }
            if !parts.isEmpty { location = parts.joined(separator: "  ") }
        }
        lines.append(label("location") + location + "   source \(reply.source.rawValue)")
        lines.append(label("pool") + "\(reply.pool) (\(reply.policy), answers \(reply.poolAnswers))")

        // Candidates in order.
        var table = TextTable(header: ["", "", "", "", ""], rightAligned: [0, 2])
        for (index, candidate) in reply.candidates.enumerated() {
            var state = candidate.state.rawValue
            if candidate.admin == .drained { state += ", drained" }
            var verdict = ""
            if candidate.chosen {
                verdict = "chosen"
            } else if let reason = candidate.reason {
                var detail: [String] = []
                if let result = candidate.result, candidate.state == .down || reason.hasPrefix("down") { detail.append(result) }
                if let since = candidate.since, candidate.state == .down || candidate.admin == .drained {
                    detail.append("since \(Format.time(since))")
                }
                verdict = "skipped: \(reason)" + (detail.isEmpty ? "" : " (\(detail.joined(separator: " ")))")
            }
            table.rows.append(["\(index + 1).", candidate.edge, candidate.km.map { "\(ReadableText.grouped(Int($0.rounded()))) km" } ?? "-",
                               state, verdict])
        }
        if !table.rows.isEmpty {
            // The header row of blanks is dropped; the table only aligns the columns.
            lines += table.render(indent: "  ").split(separator: "\n", omittingEmptySubsequences: false).dropFirst().map(String.init)
        }

        // The answer.
        let trailer = "(\(reply.rcode == "NOERROR" ? "" : reply.rcode + ", ")TTL \(reply.ttl), ECS scope /\(reply.scope))"
        if reply.answer.isEmpty {
            lines.append(label("answer") + "none   " + trailer)
        } else if reply.answer.count == 1 {
            lines.append(label("answer") + reply.answer[0] + "   " + trailer)
        } else {
            for (index, record) in reply.answer.enumerated() {
                lines.append((index == 0 ? label("answer") : label("")) + record)
            }
            lines.append(label("") + trailer)
        }
        for note in reply.notes { lines.append(label("note") + note) }
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// Pads with spaces to `width` characters (at least one space after the text).
    func padding(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
