// create-checksum.js: a UDP checksum over a pseudo header and a UDP packet, the
// two passed to createChecksum() as if they were one buffer; the packet is a
// {buffer, offset, length} range inside a bigger buffer (as after an IP header).
var raw = require ("..");

// IPv4 pseudo header: source, destination, zero, protocol (17), UDP length (16).
var pseudo = Buffer.from ([
    127, 0, 0, 1,
    127, 0, 0, 1,
    0x00, 0x11, 0x00, 0x10]);

// 20 bytes standing in for an IP header, then the UDP packet: ports 54321 -> 53,
// length 16, checksum 0 for now, and 8 bytes of payload.
var packet = Buffer.alloc (36);
packet.writeUInt16BE (54321, 20);
packet.writeUInt16BE (53, 22);
packet.writeUInt16BE (16, 24);
packet.write ("hello!!\n", 28);

var sum = raw.createChecksum (pseudo, {buffer: packet, offset: 20, length: 16});
raw.writeChecksum (packet, 26, sum);

console.log ("checksum 0x" + sum.toString (16));
console.log ("udp " + packet.toString ("hex", 20));
// Summing again over the filled-in packet gives 0 when the checksum is right.
console.log ("verify 0x" + raw.createChecksum (pseudo, {buffer: packet, offset: 20, length: 16}).toString (16));
