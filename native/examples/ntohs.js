// ntohs.js [uint16]: the ntohs() stub (host and network order differ on x86).
var raw = require ("..");

var value = Number (process.argv[2] || 0x1234);
var result = raw.ntohs (value);

console.log ("ntohs (0x" + value.toString (16) + ") = 0x" + result.toString (16));
