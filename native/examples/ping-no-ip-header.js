// ping-no-ip-header.js [target]: with IP_HDRINCL set, the program writes the IPv4
// header itself (here with TTL 42 and its own identification), then the ICMP
// echo request; the kernel fills in only the total length, the header checksum,
// and, when zero, the source address and identification. Exits after the reply, or after 2 s.
var raw = require ("..");

var target = process.argv[2] || "127.0.0.1";
var id = process.pid & 0xffff;

var socket = raw.createSocket ({protocol: raw.Protocol.ICMP});
socket.setOption (raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_HDRINCL, 1);

var icmp = Buffer.alloc (16);
icmp[0] = 8;
icmp.writeUInt16BE (id, 4);
icmp.writeUInt16BE (1, 6);
icmp.write ("hdrincl!", 8);
raw.writeChecksum (icmp, 2, raw.createChecksum (icmp));

var header = Buffer.alloc (20);
header[0] = 0x45;                       // version 4, header length 5 words
header[1] = 0x00;                       // TOS
header.writeUInt16BE (20 + icmp.length, 2);
header.writeUInt16BE (0x4242, 4);       // identification
header.writeUInt16BE (0x4000, 6);       // don't fragment
header[8] = 42;                         // TTL
header[9] = raw.Protocol.ICMP;
// Source address 0.0.0.0: the kernel fills in the address it sends from.
target.split (".").forEach (function (octet, i) { header[16 + i] = Number (octet); });
raw.writeChecksum (header, 10, raw.createChecksum (header));

var packet = Buffer.concat ([header, icmp]);

socket.on ("message", function (buffer, source) {
    var offset = (buffer[0] & 0x0f) * 4;
    if (buffer.readUInt16BE (offset + 4) != id) return;
    if (buffer[offset] == 8) {
        console.log ("request seen: ttl=" + buffer[8] + " id=0x" + buffer.readUInt16BE (4).toString (16));
    } else if (buffer[offset] == 0) {
        console.log ("reply from " + source);
        clearTimeout (timer);
        socket.close ();
    }
});

socket.send (packet, 0, packet.length, target, function (error, bytes) {
    if (error) {
        console.error ("send failed: " + error.message);
        process.exit (1);
    }
    console.log ("sent " + bytes + " bytes (IP header included)");
});

var timer = setTimeout (function () {
    console.log ("no reply from " + target + " within 2 s");
    process.exit (1);
}, 2000);
