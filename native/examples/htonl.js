// htonl.js [uint32]: the htonl() stub (host and network order differ on x86).
var raw = require ("..");

var value = Number (process.argv[2] || 0x12345678);
var result = raw.htonl (value);

console.log ("htonl (0x" + value.toString (16) + ") = 0x" + result.toString (16));
