#pragma once
// The words stored about an upload (a rejection reason, a failure, a photo's
// note) as the photographer and the operator read them: the file named as
// the photographer knows it, never by where this host keeps it, and never
// empty. Library messages name the file they read ("<path>: bad seek to
// 1234"); this is the one place such a path becomes the file's name.

#include <string>
#include <string_view>
#include <vector>

namespace photodrop::ingest {

struct FileNaming {
    std::string name;                // the file as the photographer knows it: "Album/IMG_0001.jpg"
    std::vector<std::string> paths;  // where this process read it (absolute or relative to the data directory)
    std::string data_dir;            // any other path under it is shown relative to it
};

// `text` with each of `naming.paths` replaced by `naming.name`, any other
// path under the data directory made relative to it, and, when nothing is
// left, words saying what was attempted (`attempted`: "processing the file").
std::string stated(std::string_view text, const FileNaming& naming, std::string_view attempted);

}  // namespace photodrop::ingest
