// The seam between the CLI's array JSON (json_array.cpp) and Python values
// (object arrays and raw pickles, json_value.cpp). Follows shared spec/json.md.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <npio/array.hpp>
#include <npio/io.hpp>

namespace npio_cli {

using json = nlohmann::ordered_json;

/// The JSON of the Python object in the 'O' slot at `elem` of array `a`.
/// Errors: npio::error (unsupported before the pickle layer; a self-containing value).
json object_element_to_json(const npio::array& a, const std::byte* elem);
/// Stores `j` as a Python object in the 'O' slot at `elem` of `a`.
void object_element_from_json(const json& j, npio::array& a, std::byte* elem);
/// Whether values of unknown classes (and datetime.timezone, and references
/// to classes that are not built-in types) are written as {"$object": ...}
/// (`npio json --inert`); otherwise they are refused as unsupported.
void set_inert_objects(bool on);
/// {"pickle": VALUE} for a loaded raw pickle file.
json loaded_value_to_json(npio::loaded& l);
/// Writes VALUE (the JSON of a Python value) as a raw pickle file NumPy loads.
void write_pickle_file(const std::filesystem::path& out, const json& value);

} // namespace npio_cli
