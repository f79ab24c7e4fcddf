// ping-set-option-ip-ttl.js [target] [ttl]: a beforeCallback sets IP_TTL right
// before the echo request is sent and the afterCallback puts it back, as in the
// raw-socket README. A second raw socket captures the request on loopback to show
// the TTL it left with. Exits after the reply, or after 2 s (exit code 1).
var raw = require ("..");

var target = process.argv[2] || "127.0.0.1";
var ttl = Number (process.argv[3] || 3);
var id = process.pid & 0xffff;
var level = raw.SocketLevel.IPPROTO_IP;
var option = raw.SocketOption.IP_TTL;

var socket = raw.createSocket ({protocol: raw.Protocol.ICMP});
var capture = raw.createSocket ({protocol: raw.Protocol.ICMP, icmpTypes: [8]});

var buffer = Buffer.alloc (16);
buffer[0] = 8;
buffer.writeUInt16BE (id, 4);
buffer.writeUInt16BE (1, 6);
raw.writeChecksum (buffer, 2, raw.createChecksum (buffer));

function getTtl () {
    var value = Buffer.alloc (4);
    socket.getOption (level, option, value, value.length);
    return value.readInt32LE (0);
}

function beforeSend () {
    socket.setOption (level, option, ttl);
    console.log ("before send: IP_TTL = " + getTtl ());
}

function afterSend (error, bytes) {
    if (error)
        console.log (error.toString ());
    else
        console.log ("sent " + bytes + " bytes");
    socket.setOption (level, option, 64);
    console.log ("after send: IP_TTL = " + getTtl ());
}

capture.on ("message", function (packet) {
    var offset = (packet[0] & 0x0f) * 4;
    if (packet.readUInt16BE (offset + 4) == id)
        console.log ("request left with ttl=" + packet[8]);
});

socket.on ("message", function (packet, source) {
    var offset = (packet[0] & 0x0f) * 4;
    if (packet[offset] != 0 || packet.readUInt16BE (offset + 4) != id) return;
    console.log ("reply from " + source);
    clearTimeout (timer);
    setImmediate (function () {
        socket.close ();
        capture.close ();
    });
});

socket.send (buffer, 0, buffer.length, target, beforeSend, afterSend);

var timer = setTimeout (function () {
    console.log ("no reply from " + target + " within 2 s");
    process.exit (1);
}, 2000);
