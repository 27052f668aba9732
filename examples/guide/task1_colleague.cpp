// docs/guide.md, task 1: a colleague's np.savez (Fortran-order weights, a <U
// label array, a pickled metadata dict) and an np.save of a dict.
#include "check.hpp"

#include <cstdint>
#include <filesystem>
#include <npio/npio.hpp>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : ".";

  // [task1]
  npio::load_options opts;
  opts.allow_pickle = true; // the metadata is a pickle; we trust this colleague
  const npio::npz_file z = npio::npz_file::open(dir / "model.npz", opts);

  // Weights: Fortran order in the file. at<T>() indexes logically, whatever the order.
  const npio::array w = z.at("weights");
  const float w12 = w.at<float>(1, 2);
  // A flat C-order span needs a C-order copy (view() refuses Fortran order).
  const npio::array wc = w.copy(npio::order::c);
  const std::span<const float> flat = wc.view<float>();

  // Labels: a <U5 array.
  const npio::array labels = z.at("labels");
  const std::vector<std::string> names = labels.to_vector<std::string>(); // U as UTF-8

  // Metadata: np.savez stored the dict as a 0-d object array; item() is the dict.
  const npio::py::value meta = npio::py::item(z.at("meta"));
  const double lr = meta.at("lr").as<double>(); // at(): a missing key throws
  const auto epochs = meta.at("epochs").as<std::int64_t>();
  const auto layers = meta.at("layers").as<std::vector<int>>(); // errors name the path

  // np.save of a dict: the same 0-d object array, in a .npy.
  const npio::array cfg_array = npio::load(dir / "config.npy", opts);
  const npio::py::value cfg = npio::py::item(cfg_array);
  const std::string optimizer = cfg.at("optimizer").as<std::string>();
  // [task1]

  std::printf("weights %s Fortran=%d w[1,2]=%g; labels", w.dtype().descr().c_str(),
              int(w.is_f_contiguous() && !w.is_c_contiguous()), double(w12));
  for (const auto& n : names)
    std::printf(" %s", n.c_str());
  std::printf("; lr=%g epochs=%lld layers=%zu; optimizer=%s\n", lr, (long long)epochs,
              layers.size(), optimizer.c_str());
  GUIDE_CHECK(w.shape() == (npio::shape_t{3, 4}) && w12 == 3.0f && flat[6] == 3.0f);
  GUIDE_CHECK(names == (std::vector<std::string>{"cat", "dog", "gnu", "\xc3\xa9lan"}));
  GUIDE_CHECK(lr == 0.01 && epochs == 20 && layers == (std::vector<int>{64, 32}));
  GUIDE_CHECK(optimizer == "adam" && cfg.at("batch").as<int>() == 128);
  return 0;
}
