int meridian_dummy;
