{
  "targets": [
    {
      "target_name": "raw_socket",
      "sources": ["src/addon.cc", "src/raw_socket.cc", "src/checksum.cc", "src/system_error.cc", "src/arguments.cc",
                  "src/connect_probe.cc", "src/descriptor_channel.cc", "src/bpf.cc",
                  "src/ancillary.cc", "src/packet_socket.cc", "src/network_namespace.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O3", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        # dlopen (libpcap, src/bpf.cc): in libc since glibc 2.34, in libdl before.
        ["OS=='linux'", { "libraries": ["-ldl"] }],
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "MACOSX_DEPLOYMENT_TARGET": "11.0"
          }
        }]
      ]
    },
    {
      # The socket helper (native/helper/README.md): a small program with no Node in it
      # that opens raw sockets and passes their descriptors to the unprivileged workbench.
      "target_name": "packet-workbench-helper",
      "type": "executable",
      "sources": ["helper/helper.cc"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fPIE", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2"],
      "ldflags": ["-pie", "-Wl,-z,relro,-z,now"],
      "conditions": [
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "11.0"
          }
        }]
      ]
    },
    {
      # The userspace link emulator (native/linkemu/README.md): two TAP devices joined by
      # a process that drops, delays and rate-limits frames; labs use it where tc netem is missing.
      "target_name": "packet-workbench-linkemu",
      "type": "executable",
      "sources": ["linkemu/linkemu.cc"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fPIE", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2"],
      "ldflags": ["-pie", "-Wl,-z,relro,-z,now"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    }
  ]
}
