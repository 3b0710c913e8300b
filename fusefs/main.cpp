// photodrop-fs: one tenant's mount, the chroot of its SFTP users.

#include "catalog/config.hpp"
#include "fusefs/operations.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>

int main(int argc, char** argv) {
    using namespace photodrop;
    CLI::App app{"photodrop-fs: mounts one tenant's upload folders (FUSE)"};
    Config config;
    try {
        config = load_config();
    } catch (const std::exception& e) {
        std::cerr << "photodrop-fs: " << e.what() << "\n";
        return 1;
    }
    fs::Options options;
    options.catalog = config.catalog;
    options.data = config.data;
    std::string mountpoint;
    bool foreground = false, debug = false, single_thread = false;
    std::vector<std::string> mount_options;
    app.add_option("--catalog", options.catalog, "the catalog: a SQLite file, or a postgresql:// URL")->capture_default_str();
    app.add_option("--data", options.data, "the data directory (bytes go to DATA/<tenant>/)")->capture_default_str();
    app.add_option("--tenant", options.tenant, "the tenant's slug")->required();
    app.add_option("--wake-socket", options.wake_socket, "the ingest service's socket (default DATA/ingest.sock)");
    app.add_flag("-f,--foreground", foreground, "stay in the foreground");
    app.add_flag("-d,--debug", debug, "libfuse debug output (implies -f)");
    app.add_flag("-s", single_thread, "single-threaded loop");
    bool no_passthrough = false;
    app.add_flag("--no-passthrough", no_passthrough,
                 "every write of an upload through photodrop-fs, with the kernel's write-back cache, "
                 "even where the kernel could write it itself (FUSE passthrough)");
    app.add_option("-o", mount_options, "mount options, as for mount(8)")->delimiter(',');
    app.add_option("MOUNTPOINT", mountpoint, "where to mount")->required();
    CLI11_PARSE(app, argc, argv);

    config.data = options.data;
    if (options.wake_socket.empty()) options.wake_socket = config.wake_socket();
    if (!config.image_extensions.empty()) options.settings.image_extensions = config.image_extensions;
    options.settings.temporary_suffixes = config.temporary_suffixes;
    options.max_upload_size = config.max_upload_size;
    options.free_space_reserve = config.free_space_reserve;
    options.passthrough = !no_passthrough;

    std::vector<std::string> fuse_args{"photodrop-fs", mountpoint};
    if (foreground) fuse_args.push_back("-f");
    if (debug) fuse_args.push_back("-d");
    if (single_thread) fuse_args.push_back("-s");
    // allow_other: the SFTP users are other uids than the daemon's.
    std::string opts = fmt::format("allow_other,max_threads=16,fsname=photodrop:{},subtype=photodrop", options.tenant);
    for (const auto& o : mount_options) opts += "," + o;
    fuse_args.push_back("-o");
    fuse_args.push_back(opts);
    try {
        return fs::serve(options, fuse_args);
    } catch (const std::exception& e) {
        std::cerr << "photodrop-fs: " << e.what() << "\n";
        return 1;
    }
}
