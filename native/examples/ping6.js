// ping6.js [target]: ICMPv6 echo to an IPv6 host (default ::1). Raw ICMPv6
// sockets deliver no IP header, and the kernel fills in the ICMPv6 checksum (it
// covers a pseudo header with addresses only the kernel knows for certain).
// Exits after the reply, or after 2 s without one (exit code 1).
var raw = require ("..");

var target = process.argv[2] || "::1";
var id = process.pid & 0xffff;

var socket = raw.createSocket ({
    addressFamily: raw.AddressFamily.IPv6,
    protocol: raw.Protocol.ICMPv6
});

var buffer = Buffer.alloc (16);
buffer[0] = 128; // echo request
buffer.writeUInt16BE (id, 4);
buffer.writeUInt16BE (1, 6);
buffer.write ("workbench", 8);

var sentAt;

socket.on ("message", function (reply, source) {
    if (reply[0] != 129 || reply.readUInt16BE (4) != id) return;
    var ms = Number (process.hrtime.bigint () - sentAt) / 1e6;
    console.log (reply.length + " bytes from " + source + ": icmp_seq=" + reply.readUInt16BE (6)
            + " time=" + ms.toFixed (3) + " ms");
    clearTimeout (timer);
    socket.close ();
});

socket.send (buffer, 0, buffer.length, target, function () {
    sentAt = process.hrtime.bigint ();
}, function (error) {
    if (error) {
        console.error ("send failed: " + error.message);
        process.exit (1);
    }
});

var timer = setTimeout (function () {
    console.log ("no reply from " + target + " within 2 s");
    process.exit (1);
}, 2000);
