#pragma once
// A refusal: the upload cannot become a photo however often it is retried
// (not an image, corrupt, too many pixels). Its message is the reason the
// photographer and the operator read; the upload becomes `rejected` with it.

#include <stdexcept>

namespace photodrop::ingest {

class Refusal : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace photodrop::ingest
