// udp-traceroute-unprivileged.js [target] [max hops] [tcp]: traceroute without root
// or CAP_NET_RAW (Linux). A plain UDP socket with receiveErrors sends one probe per
// TTL to port 33434+TTL; the kernel hands the socket the ICMP errors about its own
// packets: Time Exceeded names each router (the offender), port unreachable the
// target. With "tcp", probeConnect does the same with a TCP connect() per probe
// (port 80). Default target 127.0.0.1 (answers at once: it is one hop away).
// Exits after the target answers, or after 2 s without an answer for a hop (exit code 1).
var raw = require ("..");
var isIPv6 = require ("net").isIPv6;

var target = process.argv[2] || "127.0.0.1";
var maxHops = Number (process.argv[3] || 30);
var tcp = process.argv[4] === "tcp";
var v6 = isIPv6 (target);
var level = v6 ? raw.SocketLevel.IPPROTO_IPV6 : raw.SocketLevel.IPPROTO_IP;
var option = v6 ? raw.SocketOption.IPV6_UNICAST_HOPS : raw.SocketOption.IP_TTL;
var BASE_PORT = 33434;

console.log ("traceroute to " + target + " (" + (tcp ? "TCP" : "UDP") + ", no privilege), " + maxHops + " hops max");

function line (ttl, from, sentAt, answeredAt, what) {
    var ms = Number (answeredAt - sentAt) / 1e6;
    console.log ((ttl < 10 ? " " : "") + ttl + "  " + from + "  " + ms.toFixed (3) + " ms  " + what);
}

function describe (error) {
    if (error.icmpType === (v6 ? 3 : 11)) return "time exceeded";
    if (error.icmpType === (v6 ? 1 : 3) && error.icmpCode === (v6 ? 4 : 3)) return "port unreachable";
    return error.code + " (type " + error.icmpType + " code " + error.icmpCode + ")";
}

function giveUp (ttl) {
    console.log ((ttl < 10 ? " " : "") + ttl + "  *");
    process.exit (1);
}

if (tcp) {
    (function probe (ttl) {
        raw.probeConnect ({address: target, port: 80, ttl: ttl, timeout: 2000}).then (function (result) {
            if (result.outcome === "timeout") return giveUp (ttl);
            if (result.outcome === "icmp-error") {
                var error = result.icmpError;
                line (ttl, error.offender, result.sentAt, result.answeredAt, describe (error));
                if (error.offender === target || ttl >= maxHops) return;
                return probe (ttl + 1);
            }
            line (ttl, target, result.sentAt, result.answeredAt, result.outcome === "open" ? "open (SYN-ACK)" : "refused (RST)");
        }, function (error) {
            console.error ("probe failed: " + error.message);
            process.exit (1);
        });
    }) (1);
} else {
    var socket = raw.createSocket ({
        addressFamily: v6 ? raw.AddressFamily.IPv6 : raw.AddressFamily.IPv4,
        protocol: raw.Protocol.UDP,
        mode: "datagram",
        receiveErrors: true,
        timestamps: true
    });
    var sentAt = {};
    var timer;

    var send = function (ttl) {
        var probe = Buffer.from ("packet-workbench");
        socket.send (probe, 0, probe.length, {address: target, port: BASE_PORT + ttl}, function () {
            socket.setOption (level, option, ttl);
        }, function (error, bytes, at) {
            if (error) {
                console.error ("send failed: " + error.message);
                process.exit (1);
            }
            sentAt[ttl] = at;
        });
        timer = setTimeout (giveUp, 2000, ttl);
    };

    // Each error names the probe it is about by its original destination port.
    socket.on ("icmpError", function (error) {
        var ttl = error.port - BASE_PORT;
        if (error.address !== target || sentAt[ttl] === undefined) return;
        clearTimeout (timer);
        line (ttl, error.offender, sentAt[ttl], error.timestamp, describe (error));
        if (error.offender === target || ttl >= maxHops) {
            socket.close ();
            return;
        }
        send (ttl + 1);
    });

    send (1);
}
