#include "catalog/config.hpp"

#include <doctest/doctest.h>

using namespace photodrop;

TEST_CASE("the configuration file sets keys and names its bad lines") {
    Config c;
    apply_config_text(c,
                      "# photodrop\n"
                      "catalog = /tmp/c.db   # the catalog\n"
                      "ingest_workers = 4\n"
                      "image_extensions = .jpg .cr3\n",
                      "test.conf");
    CHECK(c.catalog == "/tmp/c.db");
    CHECK(c.ingest_workers == 4);
    CHECK(c.image_extensions == std::vector<std::string>{".jpg", ".cr3"});
    CHECK(c.wake_socket() == c.data + "/ingest.sock");
    CHECK_THROWS_WITH(apply_config_text(c, "\nnope = 1\n", "x.conf"), "x.conf:2: unknown setting 'nope'");
    CHECK_THROWS_WITH(apply_config_text(c, "ingest_workers = many\n", "x.conf"), "x.conf:1: 'many' is not a number");
    CHECK_THROWS_WITH(apply_config_text(c, "catalog\n", "x.conf"), "x.conf:1: expected 'key = value'");
}

TEST_CASE("sizes and durations take units, and a bad one names its line") {
    Config c;
    apply_config_text(c, "max_upload_size = 512M\nfree_space_reserve = 2g\nkeep_deleted = 12h\nkeep_rejected = 90\n"
                         "receiving_expiry = 3d\n", "x.conf");
    CHECK(c.max_upload_size == 512LL << 20);
    CHECK(c.free_space_reserve == 2LL << 30);
    CHECK(c.keep_deleted == std::chrono::hours(12));
    CHECK(c.keep_rejected == std::chrono::seconds(90));
    CHECK(c.receiving_expiry == std::chrono::hours(72));
    CHECK_THROWS_WITH(apply_config_text(c, "max_upload_size = 1X\n", "x.conf"), "x.conf:1: '1X' is not a number");
    CHECK_THROWS_WITH(apply_config_text(c, "keep_deleted = -5d\n", "x.conf"),
                      "x.conf:1: '-5d' is not a duration (seconds, or with s, m, h or d)");
    CHECK_THROWS_WITH(apply_config_text(c, "max_upload_size = 99999999999T\n", "x.conf"),
                      "x.conf:1: '99999999999T' is not a size (a number of bytes, or with K, M, G or T)");
}

TEST_CASE("ports and port ranges are checked") {
    Config c;
    apply_config_text(c, "public_host = upload.example.com\nsftp_port = 2222\nftp_port = 2121\n"
                         "ftp_passive_ports = 50000-50010\n", "x.conf");
    CHECK(c.public_host == "upload.example.com");
    CHECK(c.sftp_port == 2222);
    CHECK(c.ftp_port == 2121);
    CHECK(c.ftp_passive_ports == "50000-50010");
    CHECK_THROWS_WITH(apply_config_text(c, "ftp_port = 70000\n", "x.conf"), "x.conf:1: '70000' is not a port (1 to 65535)");
    CHECK_THROWS_WITH(apply_config_text(c, "ftp_passive_ports = 50010-50000\n", "x.conf"),
                      "x.conf:1: '50010-50000' ends before it begins");
    CHECK_THROWS_WITH(apply_config_text(c, "ftp_passive_ports = 50000\n", "x.conf"),
                      "x.conf:1: '50000' is not a port range FIRST-LAST");
}
