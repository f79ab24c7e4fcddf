// get-option.js: read IP_TTL, SO_RCVBUF and IP_HDRINCL with getOption(), which
// returns how many bytes it wrote.
var raw = require ("..");

var socket = raw.createSocket ({protocol: raw.Protocol.ICMP});

function show (name, level, option) {
    // IP_TTL is a signed integer on some platforms, so a 4 byte buffer is used.
    var buffer = Buffer.alloc (4);
    var written = socket.getOption (level, option, buffer, buffer.length);
    console.log (name + " = " + buffer.readInt32LE (0) + " (" + written + " bytes: "
            + buffer.toString ("hex", 0, written) + ")");
}

show ("IP_TTL", raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_TTL);
show ("SO_RCVBUF", raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_RCVBUF);
show ("IP_HDRINCL", raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_HDRINCL);

socket.close ();
