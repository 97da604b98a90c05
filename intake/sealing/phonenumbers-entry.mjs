// What the report page needs of libphonenumber-js (the "max" metadata, as Python's
// phonenumbers has): bundled into static/vendor/libphonenumber.mjs by intake/sealing/vendor.py.
export { findPhoneNumbersInText } from "libphonenumber-js/max";
