// ping.js [target] [count]: ICMP echo to an IPv4 host (default 127.0.0.1), with
// the checksum computed by createChecksum/writeChecksum. Prints each reply like
// ping(8) and exits after the last reply, or after 2 s without one (exit code 1).
var raw = require ("..");

var target = process.argv[2] || "127.0.0.1";
var count = Number (process.argv[3] || 1);
var id = process.pid & 0xffff;
var sentAt = {};
var received = 0;

var socket = raw.createSocket ({protocol: raw.Protocol.ICMP});

function request (seq) {
    var buffer = Buffer.alloc (16);
    buffer[0] = 8; // echo request
    buffer.writeUInt16BE (id, 4);
    buffer.writeUInt16BE (seq, 6);
    buffer.write ("workbench", 8);
    raw.writeChecksum (buffer, 2, raw.createChecksum (buffer));
    return buffer;
}

socket.on ("message", function (buffer, source) {
    // IPv4 raw sockets deliver the IP header too.
    var offset = (buffer[0] & 0x0f) * 4;
    if (source != target || buffer[offset] != 0 || buffer.readUInt16BE (offset + 4) != id)
        return;
    var seq = buffer.readUInt16BE (offset + 6);
    if (! (seq in sentAt)) return;
    var ms = Number (process.hrtime.bigint () - sentAt[seq]) / 1e6;
    delete sentAt[seq];
    console.log ((buffer.length - offset) + " bytes from " + source + ": icmp_seq=" + seq
            + " ttl=" + buffer[8] + " time=" + ms.toFixed (3) + " ms");
    if (++received == count) {
        clearTimeout (timer);
        socket.close ();
    }
});

socket.on ("error", function (error) {
    console.error (error.toString ());
    process.exit (1);
});

for (var seq = 0; seq < count; seq++) {
    (function (seq) {
        var buffer = request (seq);
        socket.send (buffer, 0, buffer.length, target, function () {
            sentAt[seq] = process.hrtime.bigint ();
        }, function (error, bytes) {
            if (error) {
                console.error ("send failed: " + error.message);
                process.exit (1);
            }
        });
    }) (seq);
}

var timer = setTimeout (function () {
    console.log ("no reply from " + target + " within 2 s");
    process.exit (1);
}, 2000);
