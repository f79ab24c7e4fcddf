// set-option.js [ttl]: set IP_TTL with the four-argument Buffer form (x86 is
// little-endian, so the bytes go in reverse order), then with the three-argument
// unsigned form, reading it back after each.
var raw = require ("..");

var ttl = Number (process.argv[2] || 1);
var level = raw.SocketLevel.IPPROTO_IP;
var option = raw.SocketOption.IP_TTL;

var socket = raw.createSocket ({protocol: raw.Protocol.ICMP});

function read () {
    var buffer = Buffer.alloc (4);
    socket.getOption (level, option, buffer, buffer.length);
    return buffer.readInt32LE (0);
}

var buffer = Buffer.from ([ttl & 0xff, 0x00, 0x00, 0x00]);
socket.setOption (level, option, buffer, buffer.length);
console.log ("buffer form: IP_TTL = " + read ());

socket.setOption (level, option, ttl + 1);
console.log ("value form: IP_TTL = " + read ());

socket.close ();
